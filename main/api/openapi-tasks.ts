import type { ResponseDoc, RouteDoc } from './openapi.js';
import * as response from './response-schemas.js';
import * as request from './schemas.js';

const TAG = 'Tasks';

const error = (description: string): ResponseDoc => ({ description, schema: response.errorResponse });
const UNAUTHORIZED = { 401: error('Missing or wrong API token') };
const NO_TASK = { 404: error('No such task') };

const TASK_EVENTS =
  'Server-Sent Events, each saved event with `id: <seq>` (send Last-Event-ID, or ?after=, to resume): `prompt` {text}, `text` {text}, `tool_use` {id, name, input}, `tool_result` {tool_use_id, content, is_error}, `permission_request` {id, tool, input, tool_use_id}, `permission_decision` {id, decision, message?}, `status` {status}, `retry` {attempt, max_retries, error}, `turn_end` {result, is_error, turns, duration_ms}, `error` {error}; live only: `text_delta` {text}; last: `done` (the task), when the turn ends.';

/** Tasks and workspaces, as the OpenAPI document describes them. */
export const TASK_ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/workspaces',
    summary: 'The folders tasks may work in (added with `npx perch workspace add` or in the desktop app).',
    tag: TAG,
    responses: { 200: { description: 'Workspaces', schema: response.workspaceList }, ...UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/api/v1/workspaces',
    summary: 'Add a workspace: the desktop app only (403 elsewhere, naming `npx perch workspace add`).',
    tag: TAG,
    body: request.addWorkspaceRequest,
    responses: {
      201: { description: 'The workspace', schema: response.workspace },
      400: error('No such folder, or one that holds Perch’s own data'),
      ...UNAUTHORIZED,
      403: error('Not the desktop app'),
      409: error('The folder or the name is taken'),
    },
  },
  {
    method: 'delete',
    path: '/api/v1/workspaces/:id',
    summary: 'Remove a workspace (the desktop app only); its tasks stay readable.',
    tag: TAG,
    responses: {
      204: { description: 'Removed' },
      ...UNAUTHORIZED,
      403: error('Not the desktop app'),
      404: error('No such workspace'),
    },
  },
  {
    method: 'get',
    path: '/api/v1/tasks',
    summary: 'Tasks, newest first, and how many permission requests wait for a person.',
    tag: TAG,
    query: request.listTasksQuery,
    responses: { 200: { description: 'Tasks', schema: response.taskList }, 400: error('A bad limit or before'), ...UNAUTHORIZED },
  },
  {
    method: 'post',
    path: '/api/v1/tasks',
    summary:
      "Start a task: Claude Code's agent works on the prompt in a registered workspace, asking before edits and commands (permission_mode default). It goes on without the client; follow it with …/events.",
    tag: TAG,
    body: request.createTaskRequest,
    responses: {
      201: { description: 'The task, queued or running', schema: response.task },
      400: error('An invalid field, or a folder that is not a registered workspace'),
      ...UNAUTHORIZED,
      403: error('bypassPermissions is not turned on (tasks.allowBypassPermissions)'),
      429: error("Today's budget is spent (budget.dailyUsd)"),
    },
  },
  {
    method: 'get',
    path: '/api/v1/tasks/search',
    summary: 'Tasks whose transcript (prompts, Claude’s words, commands, output) matches every word.',
    tag: TAG,
    query: request.searchQuery,
    responses: {
      200: { description: 'Matches', schema: response.taskSearchResults },
      400: error('No search text'),
      ...UNAUTHORIZED,
    },
  },
  {
    method: 'get',
    path: '/api/v1/tasks/:id',
    summary: 'One task: status, permission requests, usage and cost, and its whole transcript.',
    tag: TAG,
    responses: { 200: { description: 'The task', schema: response.taskWithTranscript }, ...UNAUTHORIZED, ...NO_TASK },
  },
  {
    method: 'get',
    path: '/api/v1/tasks/:id/events',
    summary: 'Follow a task: what happened so far, then live until the turn ends.',
    tag: TAG,
    query: request.taskEventsQuery,
    responses: { 200: { description: 'Events', events: TASK_EVENTS }, ...UNAUTHORIZED, ...NO_TASK },
  },
  {
    method: 'post',
    path: '/api/v1/tasks/:id/messages',
    summary: 'A follow-up turn in the same Claude Code session, once the last turn has ended (409 while it runs).',
    tag: TAG,
    body: request.followUpRequest,
    responses: {
      202: { description: 'The task, queued again', schema: response.task },
      400: error('No prompt'),
      ...UNAUTHORIZED,
      ...NO_TASK,
      409: error('The task is still in a turn, or its workspace was removed'),
      429: error("Today's budget is spent (budget.dailyUsd)"),
    },
  },
  {
    method: 'post',
    path: '/api/v1/tasks/:id/permissions/:request_id',
    summary: 'Allow or deny what the agent asked (a deny tells it the message). The first decision wins.',
    tag: TAG,
    body: request.decisionRequest,
    responses: {
      200: { description: 'The request, decided', schema: response.permissionRequest },
      400: error('An invalid decision, or no answers for a question'),
      ...UNAUTHORIZED,
      404: error('No such task or request'),
      409: error('Already decided (the message says how), timed out or cancelled'),
    },
  },
  {
    method: 'post',
    path: '/api/v1/tasks/:id/stop',
    summary: 'Stop a task: its agent (and every command it runs) ends within a few seconds; a follow-up can continue it.',
    tag: TAG,
    responses: {
      200: { description: 'The task, stopped (or as it was, when it had ended)', schema: response.task },
      ...UNAUTHORIZED,
      ...NO_TASK,
    },
  },
  {
    method: 'get',
    path: '/api/v1/tasks/:id/changes',
    summary: 'The files the task changed, each with a unified diff against the file before the task first changed it.',
    tag: TAG,
    responses: { 200: { description: 'Changes', schema: response.taskChanges }, ...UNAUTHORIZED, ...NO_TASK },
  },
  {
    method: 'get',
    path: '/api/v1/tasks/:id/export',
    summary: "Download the task's transcript: Markdown to read, or JSON with its events and changes.",
    tag: TAG,
    query: request.exportQuery,
    responses: {
      200: { description: 'The transcript, as an attachment (text/markdown or application/json)' },
      400: error('An unknown format'),
      ...UNAUTHORIZED,
      ...NO_TASK,
    },
  },
  {
    method: 'get',
    path: '/api/v1/tasks/:id/files',
    summary: "Download a file from the task's workspace (nothing outside it, through `..` or a link).",
    tag: TAG,
    query: request.taskFileQuery,
    responses: {
      200: { description: 'The file, as an attachment (application/octet-stream)' },
      400: error('No path, or a folder'),
      ...UNAUTHORIZED,
      403: error('Outside the workspace'),
      404: error('No such task or file'),
    },
  },
];
