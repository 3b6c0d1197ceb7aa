import React, { useEffect, useRef, useState } from 'react';
import type * as monacoType from 'monaco-editor';
import { Button, CodeEditor, Stack, Text } from '@grafana/ui';

import { FIELDS } from '../fields';
import { applyFix, luceneTerm, SyntaxFix } from '../lucene';
import { syntaxProblem } from '../validation';

/** Monaco's API, as Grafana's CodeEditor hands it over. */
type Monaco = typeof monacoType;

export const LANGUAGE = 'cbc-lucene';
const vocabulary = FIELDS;

/** What completion offers in one editor: the values of a field, and the dashboard's variables. */
export interface CompletionSource {
  values: (field: string) => Promise<string[]>;
  variables: () => string[];
}

export interface Suggestion {
  label: string;
  insertText: string;
  kind: 'field' | 'value' | 'variable' | 'keyword';
  detail?: string;
  /** How many characters before the cursor the suggestion replaces. */
  replace: number;
  /** Completion opens again once it is accepted: a field's values follow its name. */
  thenSuggest?: boolean;
}

/**
 * suggest is the completion at the end of textBeforeCursor: the values of a field after `field:`, variables
 * after `$`, and otherwise field names, operators and variables.
 */
export async function suggest(textBeforeCursor: string, source: CompletionSource): Promise<Suggestion[]> {
  const afterField = /([a-z_]+):"?([^\s():"]*)$/.exec(textBeforeCursor);
  if (afterField) {
    const [typed, name, partial] = afterField;
    const field = vocabulary.find((f) => f.name === name);
    if (!field) {
      return [];
    }
    const values =
      field.type === 'boolean' ? ['true', 'false'] : field.values ? await source.values(name).catch(() => []) : [];
    const needle = partial.toLowerCase();
    return [
      ...values
        .filter((v) => v.toLowerCase().includes(needle))
        .map((v) => ({
          label: v,
          insertText: luceneTerm(v),
          kind: 'value' as const,
          replace: typed.length - name.length - 1,
        })),
      ...variableSuggestions(source, typed.length - name.length - 1),
    ];
  }
  const variable = /\$\w*$/.exec(textBeforeCursor);
  if (variable) {
    return variableSuggestions(source, variable[0].length);
  }
  const word = /[\w]*$/.exec(textBeforeCursor)?.[0] ?? '';
  return [
    ...vocabulary
      .filter((f) => f.type !== 'derived')
      .map((f) => ({
        label: f.name,
        insertText: `${f.name}:`,
        kind: 'field' as const,
        detail: f.description,
        replace: word.length,
        thenSuggest: true,
      })),
    ...['AND', 'OR', 'NOT'].map((k) => ({
      label: k,
      insertText: `${k} `,
      kind: 'keyword' as const,
      replace: word.length,
    })),
    ...variableSuggestions(source, word.length),
  ];
}

function variableSuggestions(source: CompletionSource, replace: number): Suggestion[] {
  return source
    .variables()
    .map((name) => ({ label: `$${name}`, insertText: `$${name}`, kind: 'variable' as const, replace }));
}

/** quickFix is the Monaco code action that makes a known fix: its text inserted where the fix says. */
export function quickFix(
  model: Pick<monacoType.editor.ITextModel, 'uri' | 'getPositionAt' | 'getVersionId'>,
  fix: SyntaxFix,
  markers: monacoType.editor.IMarkerData[]
): monacoType.languages.CodeAction {
  const at = model.getPositionAt(fix.offset);
  const range = {
    startLineNumber: at.lineNumber,
    startColumn: at.column,
    endLineNumber: at.lineNumber,
    endColumn: at.column,
  };
  return {
    title: fix.title,
    kind: 'quickfix',
    isPreferred: true,
    diagnostics: markers,
    edit: { edits: [{ resource: model.uri, versionId: model.getVersionId(), textEdit: { range, text: fix.insert } }] },
  };
}

/** The completion source and the known fix of each open editor, by its model; Monaco's providers are global to a language. */
const sources = new Map<string, CompletionSource>();
const fixes = new Map<string, SyntaxFix>();
let registered = false;

function registerLanguage(monaco: Monaco) {
  if (registered) {
    return;
  }
  registered = true;
  monaco.languages.register({ id: LANGUAGE });
  monaco.languages.setMonarchTokensProvider(LANGUAGE, {
    tokenizer: {
      root: [
        [/\b(AND|OR|NOT|TO)\b|&&|\|\||!/, 'keyword'],
        [/[a-z_]+(?=:)/, 'type'],
        [/"([^"\\]|\\.)*"/, 'string'],
        [/\/([^/\\]|\\.)*\//, 'regexp'],
        [/\$\{[^}]*\}|\$\w+/, 'variable'],
        [/[[\]{}()]/, 'delimiter.bracket'],
        [/[*?~^]/, 'operator'],
        [/\d+/, 'number'],
      ],
    },
  });
  const kinds = {
    field: monaco.languages.CompletionItemKind.Field,
    value: monaco.languages.CompletionItemKind.Value,
    variable: monaco.languages.CompletionItemKind.Variable,
    keyword: monaco.languages.CompletionItemKind.Keyword,
  };
  monaco.languages.registerCodeActionProvider(LANGUAGE, {
    provideCodeActions: (model) => {
      const fix = fixes.get(model.uri.toString());
      const markers = monaco.editor.getModelMarkers({ owner: LANGUAGE, resource: model.uri });
      return { actions: fix ? [quickFix(model, fix, markers)] : [], dispose: () => {} };
    },
  });
  monaco.languages.registerCompletionItemProvider(LANGUAGE, {
    triggerCharacters: [':', '$', '(', ' '],
    provideCompletionItems: async (model, position) => {
      const source = sources.get(model.uri.toString());
      if (!source) {
        return { suggestions: [] };
      }
      const line = model.getLineContent(position.lineNumber).slice(0, position.column - 1);
      const found = await suggest(line, source);
      return {
        suggestions: found.map((s, i) => ({
          label: s.label,
          insertText: s.insertText,
          kind: kinds[s.kind],
          detail: s.detail,
          command: s.thenSuggest ? { id: 'editor.action.triggerSuggest', title: 'Suggest values' } : undefined,
          sortText: String(i).padStart(4, '0'),
          range: {
            startLineNumber: position.lineNumber,
            endLineNumber: position.lineNumber,
            startColumn: position.column - s.replace,
            endColumn: position.column,
          },
        })),
      };
    },
  });
}

interface Props {
  value: string;
  source: CompletionSource;
  /** The text as typed, on every change. */
  onEdit?: (value: string) => void;
  /** The text when the editor is left, when it changed. */
  onChange: (value: string) => void;
  onRun: (value: string) => void;
}

/** The editor grows with its text from one line to about ten, then scrolls. */
const LINE_HEIGHT = 19;
const MIN_HEIGHT = 2 * LINE_HEIGHT;
const MAX_HEIGHT = 10 * LINE_HEIGHT;

/** How long typing must pause before a syntax error is said in words; it is marked in place at once. */
const SAY_AFTER_MS = 1000;

/** The next (or previous) element Tab reaches from el in the page: Tab leaves the editor, as in a text box. */
function focusBeside(el: Element | null, step: 1 | -1) {
  const focusable = Array.from(
    document.querySelectorAll<HTMLElement>(
      'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'
    )
  ).filter((e) => e.offsetParent !== null || e === el);
  const at = el ? focusable.indexOf(el as HTMLElement) : -1;
  focusable[at + step]?.focus();
}

/**
 * The query text in Grafana's code editor (Monaco, which Grafana loads on first use, not this plugin): Lucene
 * highlighting, completion of fields, values and variables, and syntax errors marked where they are as you
 * type, and said in words once typing pauses or the editor is left. Shift+Enter runs the query; Tab leaves the
 * editor; leaving it keeps the text.
 */
export function LuceneEditor({ value, source, onEdit, onChange, onRun }: Props) {
  const sourceRef = useRef(source);
  const runRef = useRef(onRun);
  const editRef = useRef(onEdit);
  // The editor's own text is checked as it changes (see mark); before it mounts, the query's.
  const [problem, setProblem] = useState(() => syntaxProblem(value));
  // The problem said in words: the current one once typing paused, or when the editor is left.
  const [said, setSaid] = useState(() => syntaxProblem(value));
  const [height, setHeight] = useState(MIN_HEIGHT);
  const editorRef = useRef<monacoType.editor.IStandaloneCodeEditor | undefined>(undefined);
  const fix = said?.fix;
  useEffect(() => {
    sourceRef.current = source;
    runRef.current = onRun;
    editRef.current = onEdit;
  });
  useEffect(() => {
    if (!problem) {
      return;
    }
    const timer = setTimeout(() => setSaid(problem), SAY_AFTER_MS);
    return () => clearTimeout(timer);
  }, [problem]);
  return (
    <div>
      <CodeEditor
        value={value}
        language={LANGUAGE}
        height={height}
        showLineNumbers={false}
        showMiniMap={false}
        containerStyles="cbc-lucene-editor"
        monacoOptions={{
          wordWrap: 'on',
          lineNumbers: 'off',
          scrollBeyondLastLine: false,
          renderLineHighlight: 'none',
          fixedOverflowWidgets: true,
        }}
        onBeforeEditorMount={registerLanguage}
        onEditorDidMount={(editor, monaco) => {
          const model = editor.getModel();
          if (!model) {
            return;
          }
          const key = model.uri.toString();
          sources.set(key, {
            values: (field) => sourceRef.current.values(field),
            variables: () => sourceRef.current.variables(),
          });
          const mark = () => {
            const found = syntaxProblem(model.getValue());
            setProblem(found);
            if (!found) {
              setSaid(undefined); // a problem solved goes at once; a new one waits for a pause
            }
            if (found?.fix) {
              fixes.set(key, found.fix);
            } else {
              fixes.delete(key);
            }
            const at = found ? model.getPositionAt(found.offset) : undefined;
            monaco.editor.setModelMarkers(
              model,
              LANGUAGE,
              found && at
                ? [
                    {
                      severity: monaco.MarkerSeverity.Error,
                      message: found.message,
                      startLineNumber: at.lineNumber,
                      startColumn: at.column,
                      endLineNumber: at.lineNumber,
                      endColumn: at.column + 1,
                    },
                  ]
                : []
            );
          };
          mark();
          editor.onDidChangeModelContent(() => {
            mark();
            editRef.current?.(model.getValue());
          });
          editor.onDidContentSizeChange((e) => setHeight(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, e.contentHeight))));
          editor.onDidDispose(() => {
            sources.delete(key);
            fixes.delete(key);
          });
          editorRef.current = editor;
          editor.addCommand(monaco.KeyMod.Shift | monaco.KeyCode.Enter, () => {
            setSaid(syntaxProblem(editor.getValue()));
            runRef.current(editor.getValue());
          });
          // Tab and Shift+Tab leave the editor (WCAG 2.1.2), unless they accept a completion.
          const outside = '!suggestWidgetVisible && !inSnippetMode';
          editor.addCommand(
            monaco.KeyCode.Tab,
            () => focusBeside(editor.getDomNode()?.querySelector('textarea') ?? null, 1),
            outside
          );
          editor.addCommand(
            monaco.KeyMod.Shift | monaco.KeyCode.Tab,
            () => focusBeside(editor.getDomNode()?.querySelector('textarea') ?? null, -1),
            outside
          );
        }}
        onBlur={(text) => {
          setSaid(syntaxProblem(text));
          if (text !== value) {
            onChange(text);
          }
        }}
      />
      <div aria-live="polite">
        {said && (
          <Stack gap={1} alignItems="center">
            <Text variant="bodySmall" color="error">
              {said.message} (at character {said.offset + 1})
            </Text>
            {fix && (
              <Button
                size="sm"
                variant="secondary"
                fill="text"
                onClick={() => {
                  const fixed = applyFix(editorRef.current?.getValue() ?? value, fix);
                  editorRef.current?.setValue(fixed);
                  setSaid(syntaxProblem(fixed));
                  onChange(fixed);
                }}
              >
                {fix.title}
              </Button>
            )}
          </Stack>
        )}
      </div>
    </div>
  );
}
