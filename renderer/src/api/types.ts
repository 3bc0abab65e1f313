import type { z } from 'zod';
import type * as shapes from '../../../main/api/response-schemas';

/** The API's answer shapes, from the same schemas the service documents and tests itself with. */
export type ChatAnswer = z.infer<typeof shapes.chatAnswer>;
export type Session = z.infer<typeof shapes.session>;
export type Message = z.infer<typeof shapes.message>;
export type SessionList = z.infer<typeof shapes.sessionList>;
export type SessionWithMessages = z.infer<typeof shapes.sessionWithMessages>;
export type SearchResults = z.infer<typeof shapes.searchResults>;
export type ModelList = z.infer<typeof shapes.modelList>;
export type SettingsResponse = z.infer<typeof shapes.settingsResponse>;
export type Settings = SettingsResponse['settings'];
export type ApiKeyState = z.infer<typeof shapes.apiKeyState>;
export type Usage = z.infer<typeof shapes.usage>;
export type Job = z.infer<typeof shapes.job>;
export type JobList = z.infer<typeof shapes.jobList>;
export type JobRun = z.infer<typeof shapes.jobRun>;
export type Review = z.infer<typeof shapes.review>;
export type UsageSummary = z.infer<typeof shapes.usageSummary>;
export type UsageGroup = UsageSummary['groups'][number];
export type UsageTotals = UsageSummary['totals'];
export type Workspace = z.infer<typeof shapes.workspace>;
export type Task = z.infer<typeof shapes.task>;
export type TaskWithTranscript = z.infer<typeof shapes.taskWithTranscript>;
export type TaskEvent = z.infer<typeof shapes.taskEvent>;
export type TaskList = z.infer<typeof shapes.taskList>;
export type PermissionRequest = z.infer<typeof shapes.permissionRequest>;
export type TaskChange = z.infer<typeof shapes.taskChanges>['changes'][number];

/** An attachment as the chat API takes it: bytes in base64. */
export interface AttachmentUpload {
  name: string;
  media_type: string;
  data: string;
}

export interface ChatRequest {
  message: string;
  session_id?: string;
  model?: string;
  attachments?: AttachmentUpload[];
  /** Edit, retry or regenerate: the saved question this one replaces, with everything after it. */
  replace_from?: string;
}

/** Server-Sent Events of an answer, as the chat API sends them. */
export type AnswerEvent =
  | { event: 'start'; data: { session_id: string; message_id: string; model: string } }
  | { event: 'delta'; data: { text: string } }
  | { event: 'done'; data: ChatAnswer }
  | {
      event: 'error';
      data: { error: { type: string; message: string }; session_id?: string; message_id?: string; partial_response?: string };
    };
