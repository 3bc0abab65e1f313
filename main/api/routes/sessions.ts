import { Router } from 'express';
import { sessionExport } from '../../core/export.js';
import { createSessionRequest, exportQuery, listSessionsQuery, searchQuery, updateSessionRequest } from '../schemas.js';
import { parseInput } from '../validation.js';
import { given, methodNotAllowed, sendExport, type RouteContext } from './context.js';

/** Saved conversations: list, create, read with messages, rename, delete, and search. */
export function sessionRoutes({ core }: RouteContext): Router {
  const router = Router();
  const store = core.conversations;

  router
    .route('/api/v1/sessions')
    .get((req, res) => {
      const query = parseInput(listSessionsQuery, req.query);
      res.json(store.listSessions({ limit: query.limit, before: query.before }));
    })
    .post((req, res) => {
      const body = parseInput(createSessionRequest, req.body);
      res.status(201).json(
        store.createSession({
          title: given(body.title),
          system: given(body.system),
          model: given(body.model),
          messages: given(body.messages),
        }),
      );
    })
    .all(methodNotAllowed('GET', 'POST'));

  // Declared before `/:id` so "search" is never read as a session id.
  router
    .route('/api/v1/sessions/search')
    .get((req, res) => {
      const query = parseInput(searchQuery, req.query);
      // Tasks are history too: their transcripts match beside the chats.
      res.json({ results: store.search(query.q, query.limit), tasks: core.tasks.search(query.q, query.limit) });
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/sessions/:id')
    .get((req, res) => {
      const session = store.requireSession(req.params.id);
      res.json({ ...session, messages: store.messages(session.id) });
    })
    .patch((req, res) => {
      const body = parseInput(updateSessionRequest, req.body);
      res.json(store.updateSession(req.params.id, body));
    })
    .delete((req, res) => {
      store.deleteSession(req.params.id);
      res.status(204).end();
    })
    .all(methodNotAllowed('GET', 'PATCH', 'DELETE'));

  router
    .route('/api/v1/sessions/:id/export')
    .get((req, res) => {
      const { format } = parseInput(exportQuery, req.query);
      const session = store.requireSession(req.params.id);
      sendExport(res, sessionExport(session, store.messages(session.id), format, new Date().toISOString()));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/sessions/:id/attachments/:attachmentId')
    .get((req, res) => {
      const file = store.attachment(req.params.id, req.params.attachmentId);
      // Images (typed by their bytes when they were saved) show inline, for thumbnails; anything
      // else is a download, and nothing is ever rendered as a page in Perch's origin.
      const image = file.media_type.startsWith('image/');
      res.setHeader('Content-Type', image ? file.media_type : 'application/octet-stream');
      res.setHeader(
        'Content-Disposition',
        `${image ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      );
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      res.setHeader('Cache-Control', 'private, max-age=3600');
      res.end(file.data);
    })
    .all(methodNotAllowed('GET'));
  return router;
}
