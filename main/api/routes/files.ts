import { Router, type RequestHandler } from 'express';
import multer from 'multer';
import { analyzeFileRequest, reviewCodeRequest } from '../../core/chat/tasks.js';
import { invalidRequest } from '../../core/errors.js';
import { toAttachment } from '../../core/files/attachments.js';
import type { AttachmentInput } from '../../core/storage/conversation-store.js';
import { respondWithAnswer } from '../answers.js';
import { MB } from '../errors.js';
import { analyzeFields, codeReviewRequest } from '../schemas.js';
import { parseInput } from '../validation.js';
import { wantsStream } from './chat.js';
import { given, methodNotAllowed, type RouteContext } from './context.js';

export const UPLOAD_PATHS = new Set(['/api/v1/file/analyze', '/api/file/upload']);

/** One file in the field `file`, held in memory, with the size limit read from settings now. */
function singleFileUpload(maxUploadMb: () => number): RequestHandler {
  return (req, res, next) => {
    multer({
      storage: multer.memoryStorage(),
      // multer wants whole bytes; the setting may be a fraction (api.maxUploadMb 0.5).
      limits: { fileSize: Math.floor(maxUploadMb() * MB), files: 1, fields: 10, fieldSize: MB, parts: 12 },
    }).single('file')(req, res, (error?: unknown) => {
      // busboy's own parse errors (a malformed part header, a cut-off form) are the client's: 400, not 500.
      if (error instanceof Error && !(error instanceof multer.MulterError) && !('status' in error)) {
        next(invalidRequest(`The multipart upload is malformed: ${error.message}.`));
      } else next(error);
    });
  };
}

function uploadedFile(file: Express.Multer.File | undefined): AttachmentInput {
  if (!file) throw invalidRequest("Attach the file as multipart field 'file' (curl -F file=@path/to/file).");
  return toAttachment(file.originalname, file.buffer);
}

/** File analysis (multipart upload) and code review (JSON), both answered by Claude. */
export function fileRoutes(context: RouteContext): Router {
  const { core } = context;
  const router = Router();
  const upload = singleFileUpload(() => core.currentSettings().api.maxUploadMb);
  const describeFile = (file: AttachmentInput): Record<string, unknown> => ({
    name: file.name,
    size: file.data.length,
    media_type: file.media_type,
  });

  router
    .route('/api/v1/file/analyze')
    .post(upload, async (req, res) => {
      const fields = parseInput(analyzeFields, req.body);
      const file = uploadedFile(req.file);
      const turn = core.chat.begin(
        analyzeFileRequest({
          file,
          prompt: given(fields.prompt),
          sessionId: given(fields.session_id),
          model: given(fields.model),
        }),
      );
      await respondWithAnswer(req, res, turn, {
        stream: wantsStream(req, fields.stream === undefined || fields.stream === null ? undefined : fields.stream === 'true'),
        shape: ({ response, ...answer }) => ({ analysis: response, file: describeFile(file), ...answer }),
        secrets: context.secrets,
      });
    })
    .all(methodNotAllowed('POST'));

  // The seed's upload path.
  router
    .route('/api/file/upload')
    .post(upload, async (req, res) => {
      const fields = parseInput(analyzeFields, req.body);
      const file = uploadedFile(req.file);
      const turn = core.chat.begin(analyzeFileRequest({ file, prompt: given(fields.prompt), model: given(fields.model) }));
      await respondWithAnswer(req, res, turn, {
        stream: false,
        shape: ({ response, ...answer }) => ({
          status: 'success',
          filename: file.name,
          size: file.data.length,
          analysis: response,
          ...answer,
        }),
        secrets: context.secrets,
      });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/api/v1/code/review')
    .post(async (req, res) => {
      const body = parseInput(codeReviewRequest, req.body);
      const turn = core.chat.begin(
        reviewCodeRequest({
          code: body.code,
          language: body.language,
          focus: given(body.focus),
          filename: given(body.filename),
          sessionId: given(body.session_id),
          model: given(body.model),
        }),
      );
      await respondWithAnswer(req, res, turn, {
        stream: wantsStream(req, body.stream),
        shape: ({ response, ...answer }) => ({ review: response, language: body.language, ...answer }),
        secrets: context.secrets,
      });
    })
    .all(methodNotAllowed('POST'));
  return router;
}
