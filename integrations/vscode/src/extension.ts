import * as vscode from 'vscode';
import { findConnection } from './connection.js';
import { PerchRequestError, streamAnswer } from './perch-client.js';
import { errorExplanation, fileReview, numberedExcerpt, selectionQuestion } from './prompts.js';

const TOKEN_SECRET = 'perch.apiToken';

/** The answers appear in one output channel, streamed as they arrive. */
let output: vscode.OutputChannel | undefined;

async function connection(context: vscode.ExtensionContext): Promise<{ baseUrl: string; token: string } | undefined> {
  const settings = vscode.workspace.getConfiguration('perch');
  const found = findConnection({ serviceUrl: settings.get<string>('serviceUrl'), dataDir: settings.get<string>('dataDir') });
  const baseUrl = found.baseUrl;
  if (!baseUrl) {
    void vscode.window.showErrorMessage(
      'Perch: Perch is not running. Start it with: npx perch serve (or open the Perch app, or set perch.serviceUrl).',
    );
    return undefined;
  }
  const token = found.token ?? (await context.secrets.get(TOKEN_SECRET));
  if (token) return { baseUrl, token };
  // Asked once, then kept in VS Code's secret storage.
  const entered = await vscode.window.showInputBox({
    title: 'Perch API token',
    prompt: 'Run npx perch token in a terminal and paste the token here.',
    password: true,
    ignoreFocusOut: true,
  });
  if (!entered?.trim()) return undefined;
  await context.secrets.store(TOKEN_SECRET, entered.trim());
  return { baseUrl, token: entered.trim() };
}

async function run(context: vscode.ExtensionContext, title: string, path: string, body: Record<string, unknown>): Promise<void> {
  const target = await connection(context);
  if (!target) return;
  output ??= vscode.window.createOutputChannel('Perch', 'markdown');
  output.appendLine(`\n## ${title}\n`);
  output.show(true);
  const channel = output;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Perch: ${title}`, cancellable: true },
    async (_progress, cancellation) => {
      const controller = new AbortController();
      cancellation.onCancellationRequested(() => controller.abort());
      try {
        await streamAnswer(target.baseUrl, target.token, path, body, {
          onText: (text) => channel.append(text),
          signal: controller.signal,
        });
        channel.appendLine('');
      } catch (error) {
        if ((error as Error).name === 'AbortError') {
          channel.appendLine('\n(cancelled)');
          return;
        }
        if (error instanceof PerchRequestError && error.status === 401) await context.secrets.delete(TOKEN_SECRET);
        void vscode.window.showErrorMessage(`Perch: ${(error as Error).message}`);
      }
    },
  );
}

async function askAboutSelection(context: vscode.ExtensionContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showInformationMessage('Perch: select some code first.');
    return;
  }
  const question = await vscode.window.showInputBox({
    title: 'Ask Claude about the selection',
    placeHolder: 'What does this do?',
  });
  if (!question?.trim()) return;
  const { document } = editor;
  await run(
    context,
    question.trim(),
    '/api/v1/chat',
    selectionQuestion(question.trim(), {
      fileName: vscode.workspace.asRelativePath(document.uri),
      languageId: document.languageId,
      text: document.getText(editor.selection),
    }),
  );
}

async function reviewFile(context: vscode.ExtensionContext): Promise<void> {
  const document = vscode.window.activeTextEditor?.document;
  if (!document) return;
  const name = vscode.workspace.asRelativePath(document.uri);
  await run(context, `Review of ${name}`, '/api/v1/code/review', fileReview(name, document.languageId, document.getText()));
}

async function explainError(context: vscode.ExtensionContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return;
  const { document } = editor;
  const diagnostics = vscode.languages.getDiagnostics(document.uri);
  const cursor = editor.selection.active;
  // The problem under the cursor, else the first error in the file.
  const diagnostic =
    diagnostics.find((candidate) => candidate.range.contains(cursor)) ??
    diagnostics.find((candidate) => candidate.severity === vscode.DiagnosticSeverity.Error);
  if (!diagnostic) {
    void vscode.window.showInformationMessage('Perch: no error here to explain.');
    return;
  }
  const line = diagnostic.range.start.line;
  const code = typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code;
  await run(
    context,
    `Explain: ${diagnostic.message.split('\n')[0] ?? ''}`,
    '/api/v1/chat',
    errorExplanation({
      fileName: vscode.workspace.asRelativePath(document.uri),
      languageId: document.languageId,
      message: diagnostic.message,
      source: diagnostic.source,
      code,
      line: line + 1,
      excerpt: numberedExcerpt(document.getText().split(/\r?\n/), line - 10, line + 10),
    }),
  );
}

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('perch.askAboutSelection', () => askAboutSelection(context)),
    vscode.commands.registerCommand('perch.reviewFile', () => reviewFile(context)),
    vscode.commands.registerCommand('perch.explainError', () => explainError(context)),
    vscode.commands.registerCommand('perch.forgetToken', () => context.secrets.delete(TOKEN_SECRET)),
  );
}

export function deactivate(): void {
  output?.dispose();
}
