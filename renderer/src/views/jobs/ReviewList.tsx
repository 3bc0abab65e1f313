import { useCallback, useEffect, useState } from 'react';
import { formatCost, formatWhen } from '../../answers/format';
import type { Review } from '../../api/types';
import { useApi } from '../../app/api-context';
import { usePollWhile } from '../../app/use-poll-while';

/** Only http(s) links from the service become clickable. */
const safeLink = (url: string | null): string | undefined => (url && /^https?:\/\//i.test(url) ? url : undefined);

/** Pull-request reviews Perch ran for GitHub webhooks, newest first; refreshed while one is running. */
export function ReviewList() {
  const { api } = useApi();
  const [reviews, setReviews] = useState<Review[] | undefined>();
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api.get<{ reviews: Review[] }>('/api/v1/reviews?limit=20', controller.signal).then(
      (list) => setReviews(list.reviews),
      () => undefined,
    );
    return () => controller.abort();
  }, [api, version]);

  // While a review is running, look again every three seconds.
  const pollReviews = useCallback(() => setVersion((current) => current + 1), []);
  usePollWhile(reviews?.some((review) => review.status === 'running') ?? false, pollReviews, 3000);

  if (!reviews) return null;
  return (
    <section className="reviews" aria-labelledby="reviews-heading">
      <h2 id="reviews-heading">Pull-request reviews</h2>
      {reviews.length === 0 ? (
        <p className="hint">
          None yet. Connect a GitHub repository (Settings → Automation) and Perch reviews its pull requests and lists them here.
        </p>
      ) : (
        <ol className="run-list" aria-label="Pull-request reviews">
          {reviews.map((review) => {
            const link = safeLink(review.comment_url);
            const title = `${review.repo} #${review.pr_number}`;
            return (
              <li key={review.id} className={`run ${review.status}`}>
                <div className="run-head">
                  <span className={`badge ${review.status}`}>{review.status}</span>
                  {link ? (
                    <a href={link} target="_blank" rel="noreferrer">
                      {title}
                    </a>
                  ) : (
                    <span>{title}</span>
                  )}
                  <span title={new Date(review.updated_at).toLocaleString()}>{formatWhen(review.updated_at)}</span>
                  {review.head_sha && <code className="hint">{review.head_sha.slice(0, 7)}</code>}
                  {review.cost_usd !== null && <span className="hint">{formatCost(review.cost_usd)}</span>}
                </div>
                {review.error && <p className="run-error">{review.error}</p>}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
