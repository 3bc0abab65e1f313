import { Router } from 'express';
import { UpstreamFailure } from '../../core/claude/claude-client.js';
import { PerchError } from '../../core/errors.js';
import { CompletionChunker, completionId, toClaudeRequest, toCompletion } from '../../core/openai/chat-completions.js';
import { chatCompletionRequest } from '../schemas.js';
import { parseInput } from '../validation.js';
import { compatErrorBody } from '../errors.js';
import { methodNotAllowed, type RouteContext } from './context.js';

/** The OpenAI-compatible Chat Completions endpoint, translated to Claude's Messages API. */
export function openAiRoutes(context: RouteContext): Router {
  const { core } = context;
  const router = Router();
  router
    .route('/v1/chat/completions')
    .post(async (req, res) => {
      const body = parseInput(chatCompletionRequest, req.body);
      const request = toClaudeRequest(body, { maxTokens: core.currentSettings().claude.maxTokens });
      const controller = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const id = completionId();
      const created = Math.floor(Date.now() / 1000);
      const record = (model: string, usage: UpstreamFailure['usage']): void => {
        if (usage.input_tokens > 0 || usage.output_tokens > 0) core.usage.record({ source: 'openai', model, usage });
      };

      if (!body.stream) {
        try {
          const answer = await core.claude.stream(request, { signal: controller.signal });
          record(answer.model, answer.usage);
          res.json(toCompletion(answer, id, created));
        } catch (error) {
          if (error instanceof UpstreamFailure) record(error.model, error.usage);
          throw error;
        }
        return;
      }

      // Headers wait for the first chunk, so a failure before Claude starts is a real HTTP error.
      const chunker = new CompletionChunker(id, created, request.model, body.stream_options?.include_usage === true);
      const write = (chunk: unknown): void => {
        if (!res.headersSent) {
          res.status(200);
          res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
          res.setHeader('Cache-Control', 'no-store');
          res.setHeader('X-Accel-Buffering', 'no');
          res.flushHeaders();
          res.socket?.setNoDelay(true);
        }
        if (!res.writableEnded) res.write(`data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`);
      };
      try {
        const answer = await core.claude.stream(request, {
          signal: controller.signal,
          onEvent: (event) => {
            for (const chunk of chunker.push(event)) write(chunk);
          },
        });
        record(answer.model, answer.usage);
        write('[DONE]');
        res.end();
      } catch (error) {
        if (error instanceof UpstreamFailure) record(error.model, error.usage);
        if (!res.headersSent) throw error;
        const failure = error instanceof PerchError ? error : new PerchError('api_error', 502, 'The answer failed mid-stream.');
        // The openai SDK raises an APIError for a chunk that carries `error`.
        write(compatErrorBody(failure, context.secrets()));
        res.end();
      }
    })
    .all(methodNotAllowed('POST'));
  return router;
}
