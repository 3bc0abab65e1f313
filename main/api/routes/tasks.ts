import path from 'node:path';
import { Router } from 'express';
import { PerchError } from '../../core/errors.js';
import { taskExport } from '../../core/export.js';
import { desktopOnly } from '../../core/settings/change-policy.js';
import { eventJson, type LiveEvent } from '../../core/tasks/task-service.js';
import { workspaceJson } from '../../core/tasks/workspaces.js';
import {
  addWorkspaceRequest,
  createTaskRequest,
  decisionRequest,
  exportQuery,
  followUpRequest,
  listTasksQuery,
  searchQuery,
  taskEventsQuery,
  taskFileQuery,
} from '../schemas.js';
import { SseStream } from '../sse.js';
import { parseInput } from '../validation.js';
import { methodNotAllowed, originOf, sendExport, type RouteContext } from './context.js';

/** The Last-Event-ID a reconnecting client sends, as a number (0 when absent or not one). */
function lastEventId(header: string | string[] | undefined): number {
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

/** Workspaces: listed for every client; added and removed only from the desktop app or the CLI. */
export function workspaceRoutes({ core }: RouteContext): Router {
  const router = Router();
  router
    .route('/api/v1/workspaces')
    .get((_req, res) => {
      res.json({ workspaces: core.workspaces.list().map(workspaceJson) });
    })
    .post((req, res) => {
      if (originOf(res) !== 'desktop') {
        throw new PerchError(
          'forbidden_setting',
          403,
          `Workspaces decide where tasks may edit files and run commands, so they are added only in the Perch desktop app or with npx perch workspace add <folder> on this machine.`,
        );
      }
      const body = parseInput(addWorkspaceRequest, req.body);
      res.status(201).json(workspaceJson(core.workspaces.add(body.path, body.name)));
    })
    .all(methodNotAllowed('GET', 'POST'));
  router
    .route('/api/v1/workspaces/:id')
    .delete((req, res) => {
      if (originOf(res) !== 'desktop') throw desktopOnly(`Workspace '${req.params.id}' (npx perch workspace remove <name>)`);
      core.workspaces.remove(req.params.id);
      res.status(204).end();
    })
    .all(methodNotAllowed('DELETE'));
  return router;
}

/** Tasks: start, follow (SSE), answer permission requests, follow up, stop, and what changed. */
export function taskRoutes({ core }: RouteContext): Router {
  const router = Router();
  const { tasks } = core;

  router
    .route('/api/v1/tasks')
    .get((req, res) => {
      const query = parseInput(listTasksQuery, req.query);
      res.json({ ...tasks.list(query.limit, query.before), needs_approval: tasks.pendingCount() });
    })
    .post((req, res) => {
      const body = parseInput(createTaskRequest, req.body);
      res.status(201).json(tasks.create(body, originOf(res)));
    })
    .all(methodNotAllowed('GET', 'POST'));

  // Declared before `/:id` so "search" is never read as a task id.
  router
    .route('/api/v1/tasks/search')
    .get((req, res) => {
      const query = parseInput(searchQuery, req.query);
      res.json({ results: tasks.search(query.q, query.limit) });
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/tasks/:id')
    .get((req, res) => {
      res.json(tasks.get(req.params.id));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/tasks/:id/events')
    .get((req, res) => {
      const id = req.params.id;
      const query = parseInput(taskEventsQuery, req.query);
      let last = query.after ?? lastEventId(req.headers['last-event-id']);
      const replay = tasks.eventsAfter(id, last);
      const following = tasks.inTurn(id);
      const stream = new SseStream(res);
      const send = (event: LiveEvent): void => {
        if ('seq' in event) {
          if (event.seq <= last) return;
          last = event.seq;
          stream.send(event.type, eventJson(event).data, event.seq);
        } else {
          stream.send(event.type, event.data);
        }
        if (event.type === 'done') stream.end();
      };
      if (!following) {
        for (const event of replay) send(event);
        send({ type: 'done', data: tasks.summary(id) });
        return;
      }
      // Listen first, then replay, so nothing saved in between is missed (seq filters repeats).
      const unfollow = tasks.follow(id, send);
      res.once('close', unfollow);
      for (const event of replay) send(event);
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/tasks/:id/messages')
    .post((req, res) => {
      const body = parseInput(followUpRequest, req.body);
      res.status(202).json(tasks.followUp(req.params.id, body.prompt));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/api/v1/tasks/:id/permissions/:request_id')
    .post((req, res) => {
      const body = parseInput(decisionRequest, req.body);
      res.json(tasks.decide(req.params.id, req.params.request_id, body));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/api/v1/tasks/:id/stop')
    .post(async (req, res) => {
      res.json(await tasks.stop(req.params.id));
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/api/v1/tasks/:id/changes')
    .get(async (req, res) => {
      res.json({ changes: await tasks.changes(req.params.id) });
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/tasks/:id/export')
    .get(async (req, res) => {
      const { format } = parseInput(exportQuery, req.query);
      const changes = await tasks.changes(req.params.id);
      sendExport(res, taskExport({ ...tasks.get(req.params.id), changes }, format, new Date().toISOString()));
    })
    .all(methodNotAllowed('GET'));

  router
    .route('/api/v1/tasks/:id/files')
    .get(async (req, res) => {
      const query = parseInput(taskFileQuery, req.query);
      const file = await tasks.file(req.params.id, query.path);
      // Always a download, never rendered by a browser in Perch's origin.
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(file.size));
      res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(file.path))}`);
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      const stream = file.stream();
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    })
    .all(methodNotAllowed('GET'));

  return router;
}
