import { Router, type Request } from 'express';
import { PerchError } from '../../core/errors.js';
import { toAttachment } from '../../core/files/attachments.js';
import type { AskInput } from '../../core/chat/chat-service.js';
import type { AttachmentInput } from '../../core/storage/conversation-store.js';
import { respondWithAnswer } from '../answers.js';
import { MB } from '../errors.js';
import { chatRequest, legacyChatRequest } from '../schemas.js';
import { acceptsEventStream } from '../sse.js';
import { parseInput } from '../validation.js';
import { given, methodNotAllowed, type RouteContext } from './context.js';
import type { z } from 'zod';

function decodeAttachments(
  list: z.output<typeof chatRequest>['attachments'],
  maxUploadMb: number,
): AttachmentInput[] | undefined {
  if (!list?.length) return undefined;
  return list.map((item, index) => {
    const data = Buffer.from(item.data, 'base64');
    if (data.length > maxUploadMb * MB) {
      throw new PerchError(
        'request_too_large',
        413,
        `Attachment ${index + 1} is larger than the ${maxUploadMb} MB limit (setting api.maxUploadMb).`,
      );
    }
    return toAttachment(given(item.name) ?? `attachment-${index + 1}`, data);
  });
}

/** The question a chat body asks (both chat paths take the same fields). */
function askInput(body: z.output<typeof legacyChatRequest>): AskInput {
  return {
    message: body.message,
    sessionId: given(body.session_id),
    system: given(body.system),
    context: given(body.context),
    model: given(body.model),
    maxTokens: given(body.max_tokens),
  };
}

export const wantsStream = (req: Request, requested: boolean | null | undefined): boolean =>
  requested ?? acceptsEventStream(req.headers.accept);

export function chatRoutes(context: RouteContext): Router {
  const { core } = context;
  const router = Router();

  router
    .route('/api/v1/chat')
    .post(async (req, res) => {
      const body = parseInput(chatRequest, req.body);
      const turn = core.chat.begin({
        ...askInput(body),
        replaceFrom: given(body.replace_from),
        attachments: decodeAttachments(body.attachments, core.currentSettings().api.maxUploadMb),
      });
      await respondWithAnswer(req, res, turn, {
        stream: wantsStream(req, body.stream),
        shape: (answer) => ({ ...answer }),
        secrets: context.secrets,
      });
    })
    .all(methodNotAllowed('POST'));

  // The seed's chat path: same conversation, its original answer shape.
  router
    .route('/api/chat')
    .post(async (req, res) => {
      const body = parseInput(legacyChatRequest, req.body);
      const turn = core.chat.begin(askInput(body));
      await respondWithAnswer(req, res, turn, {
        stream: false,
        shape: (answer) => ({ ...answer, status: 'success' }),
        secrets: context.secrets,
      });
    })
    .all(methodNotAllowed('POST'));
  return router;
}
