import type { Request, Response } from 'express';
import { AnswerFailure, type Answer, type Turn } from '../core/chat/chat-service.js';
import { isPerchError, PerchError } from '../core/errors.js';
import { redactSecrets } from '../core/errors.js';
import { sendError } from './errors.js';
import { SseStream } from './sse.js';

export interface AnswerResponseOptions {
  stream: boolean;
  /** Shapes the finished answer for this route (`{analysis, …}`, `{review, …}`, …). */
  shape: (answer: Answer) => Record<string, unknown>;
  secrets: () => ReadonlyArray<string | undefined>;
}

/**
 * Aborts the answer when the client goes away before the response is complete: the upstream
 * request costs money, and nobody is listening.
 */
function abortWhenClientLeaves(req: Request, res: Response): AbortController {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  if (req.socket.destroyed) controller.abort();
  return controller;
}

function failureOf(error: unknown): AnswerFailure | PerchError {
  if (error instanceof AnswerFailure || isPerchError(error)) return error;
  return new PerchError('internal_error', 500, 'Perch failed while answering.', { cause: error });
}

function failureDetails(failure: AnswerFailure | PerchError): Record<string, unknown> {
  if (!(failure instanceof AnswerFailure)) return {};
  return {
    session_id: failure.session_id,
    message_id: failure.message_id,
    ...(failure.partial_response ? { partial_response: failure.partial_response } : {}),
  };
}

/**
 * Runs a recorded turn and answers with it: one JSON object, or Server-Sent Events
 * (`start`, `delta`…, then `done` with that same object, or `error`).
 */
export async function respondWithAnswer(req: Request, res: Response, turn: Turn, options: AnswerResponseOptions): Promise<void> {
  const controller = abortWhenClientLeaves(req, res);
  if (!options.stream) {
    try {
      const answer = await turn.run({ signal: controller.signal });
      res.json(options.shape(answer));
    } catch (error) {
      // Nobody is waiting for this answer: free the half-closed socket instead of answering.
      if (controller.signal.aborted) return void res.destroy();
      if (res.headersSent) return;
      const failure = failureOf(error);
      sendError(res, failure, options.secrets(), failureDetails(failure));
    }
    return;
  }

  const sse = new SseStream(res);
  sse.send('start', { session_id: turn.sessionId, message_id: turn.messageId, model: turn.model });
  try {
    const answer = await turn.run({ signal: controller.signal, onText: (text) => sse.send('delta', { text }) });
    sse.send('done', options.shape(answer));
  } catch (error) {
    const failure = failureOf(error);
    sse.send('error', {
      error: { type: failure.type, message: redactSecrets(failure.message, options.secrets()) },
      ...failureDetails(failure),
    });
  } finally {
    sse.end();
  }
}
