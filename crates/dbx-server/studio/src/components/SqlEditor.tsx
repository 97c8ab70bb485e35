// CodeMirror 6 with the backend's SQL dialect, table and column completion, and
// Ctrl/Cmd-Enter to run.
import { useEffect, useRef } from "preact/hooks";
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { Compartment, EditorState, Prec } from "@codemirror/state";
import { MySQL, PostgreSQL, SQLite, sql } from "@codemirror/lang-sql";

const DIALECTS = { sqlite: SQLite, libsql: SQLite, postgres: PostgreSQL, mysql: MySQL } as const;

// `get` is what to run: the selection when there is one, else the whole text.
export interface EditorHandle { get: () => string; set: (text: string) => void }

export function SqlEditor({ kind, tables, initial, onRun, handle }: {
  kind: string;
  tables: Record<string, string[]>;
  initial: string;
  onRun: () => void;
  handle: { current: EditorHandle | null };
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  const run = useRef(onRun);
  run.current = onRun;

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => { run.current(); return true; } }])),
          basicSetup,
          language.current.of(sql()),
          EditorView.contentAttributes.of({ "aria-label": "SQL" }),
        ],
      }),
    });
    view.current = editor;
    handle.current = {
      get: () => {
        const { from, to } = editor.state.selection.main;
        return from === to ? editor.state.doc.toString() : editor.state.sliceDoc(from, to);
      },
      set: (text) => editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } }),
    };
    return () => editor.destroy();
  }, []);

  useEffect(() => {
    const dialect = DIALECTS[kind as keyof typeof DIALECTS] ?? SQLite;
    view.current?.dispatch({ effects: language.current.reconfigure(sql({ dialect, schema: tables, upperCaseKeywords: true })) });
  }, [kind, tables]);

  return <div class="editor" ref={host} data-testid="sql-editor" />;
}
