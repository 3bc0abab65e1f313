"""Perch for Sublime Text: ask Claude about the selection, or review the file, through the Perch
service on this machine. Answers stream into an output panel from a worker thread, so the editor
never waits on the network.
"""

import threading

import sublime
import sublime_plugin

from . import perch_client

PANEL = "perch"


def _settings():
    return sublime.load_settings("Perch.sublime-settings")


def _panel(window):
    panel = window.find_output_panel(PANEL) or window.create_output_panel(PANEL)
    panel.set_syntax_file("Packages/Markdown/Markdown.sublime-syntax")
    panel.settings().set("word_wrap", True)
    window.run_command("show_panel", {"panel": "output." + PANEL})
    return panel


def _append(panel, text):
    # Views may only be changed on the main thread.
    sublime.set_timeout(lambda: panel.run_command("append", {"characters": text, "scroll_to_end": True}), 0)


class _Answer(threading.Thread):
    """Streams one answer into the panel; Esc on the panel (perch_cancel) stops it."""

    current = None

    def __init__(self, window, title, path, body):
        super().__init__(daemon=True)
        self.window, self.title, self.path, self.body = window, title, path, body
        self.cancelled = False

    def run(self):
        settings = _settings()
        base_url, token = perch_client.discover(settings.get("service_url", ""), settings.get("data_dir", ""))
        token = settings.get("token") or token
        panel = _panel(self.window)
        _append(panel, "\n## %s\n\n" % self.title)
        if not token:
            _append(panel, "No Perch token found: run npx perch token and put it in Perch.sublime-settings.\n")
            return
        try:
            perch_client.stream(base_url, token, self.path, self.body, lambda text: _append(panel, text), lambda: self.cancelled)
            _append(panel, "\n(cancelled)\n" if self.cancelled else "\n")
        except perch_client.PerchError as error:
            _append(panel, "\nPerch: %s\n" % error)
            sublime.status_message("Perch: %s" % error)

    @classmethod
    def start(cls, window, title, path, body):
        if cls.current and cls.current.is_alive():
            cls.current.cancelled = True
        cls.current = cls(window, title, path, body)
        cls.current.start()


class PerchAskSelectionCommand(sublime_plugin.TextCommand):
    def run(self, edit):
        selected = "\n".join(self.view.substr(region) for region in self.view.sel() if not region.empty())
        window = self.view.window()

        def on_done(question):
            if not question.strip():
                return
            body = {"message": question.strip()}
            if selected:
                body["context"] = "From %s:\n\n%s" % (self.view.file_name() or "an unsaved buffer", selected)
            _Answer.start(window, question.strip(), "/api/v1/chat", body)

        window.show_input_panel("Ask Claude:", "", on_done, None, None)


class PerchReviewFileCommand(sublime_plugin.TextCommand):
    def run(self, edit):
        code = self.view.substr(sublime.Region(0, self.view.size()))
        name = self.view.file_name() or "untitled"
        syntax = self.view.syntax()
        language = syntax.name.lower() if syntax else "text"
        _Answer.start(self.view.window(), "Review of %s" % name, "/api/v1/code/review", {"code": code, "language": language, "filename": name})

    def is_enabled(self):
        return self.view.size() > 0


class PerchCancelCommand(sublime_plugin.WindowCommand):
    def run(self):
        if _Answer.current:
            _Answer.current.cancelled = True
