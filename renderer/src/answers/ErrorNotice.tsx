import { navigate } from '../app/router';

/** An error from Perch, said with what to do about it. */
export function ErrorNotice({ error }: { error: { type: string; message: string } }) {
  if (error.type === 'no_api_key') {
    return (
      <div className="notice error" role="alert">
        No API key yet — add one in{' '}
        <a
          href="#/settings/claude"
          onClick={(event) => {
            event.preventDefault();
            navigate('#/settings/claude');
          }}
        >
          Settings
        </a>
        .
      </div>
    );
  }
  return (
    <div className="notice error" role="alert">
      {error.message}
    </div>
  );
}
