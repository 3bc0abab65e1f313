import { Fragment, useEffect, useState, type ReactNode } from 'react';
import { ApiError, messageOf } from '../api/client';

/** What is wrong, by the id of the control it is about. */
export type Problems<Id extends string> = Partial<Record<Id, string>>;

/** The attributes that tie a control to its message: invalid, and described by it (and by its hints). */
export interface ControlProps {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}

/** Only the problems that are there (a check gives undefined for a field that is right). */
export const found = <Id extends string>(problems: Problems<Id>): Problems<Id> =>
  Object.fromEntries(Object.entries(problems).filter(([, problem]) => problem)) as Problems<Id>;

const errorIdOf = (id: string): string => `${id}-error`;

export function controlProps(id: string, problem: string | undefined, ...hintIds: Array<string | undefined>): ControlProps {
  const described = [problem ? errorIdOf(id) : undefined, ...hintIds].filter(Boolean).join(' ');
  return { id, 'aria-invalid': problem ? true : undefined, 'aria-describedby': described || undefined };
}

/** Text with `code` in backticks, shown as code rather than as stray backticks. */
export function Plain({ text }: { text: string }) {
  const parts = text.split(/`([^`]+)`/);
  return (
    <>
      {parts.map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : <Fragment key={index}>{part}</Fragment>))}
    </>
  );
}

/** The message under a control that is wrong; nothing when it is right. */
export function FieldError({ id, problem }: { id: string; problem: string | undefined }) {
  if (!problem) return null;
  return (
    <p className="field-error" id={errorIdOf(id)}>
      <Plain text={problem} />
    </p>
  );
}

/** A labelled control with its hint and, when it is wrong, the reason right under it. */
export function Field({
  id,
  label,
  hint,
  problem,
  children,
}: {
  id: string;
  label: ReactNode;
  hint?: ReactNode;
  problem: string | undefined;
  children: (control: ControlProps) => ReactNode;
}) {
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(controlProps(id, problem, hintId))}
      <FieldError id={id} problem={problem} />
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

// What the browser can tell before asking the service, said in plain words.

const numberFormat = new Intl.NumberFormat();

/** Why `text` is not a number in [min, max] (whole unless `decimal`), or nothing when it is. */
export function numberProblem(text: string, { min, max, decimal = false }: { min: number; max?: number; decimal?: boolean }) {
  const kind = decimal ? 'a number' : 'a whole number';
  const range =
    max === undefined
      ? `${kind}, ${numberFormat.format(min)} or more`
      : `${kind} from ${numberFormat.format(min)} to ${numberFormat.format(max)}`;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (!decimal && !Number.isInteger(value))) return `Enter ${range}.`;
  if (value < min || (max !== undefined && value > max)) return `Enter ${range}.`;
  return undefined;
}

/** Why `text` is not a web address (http or https), or nothing when it is. */
export function urlProblem(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    if (url.protocol === 'http:' || url.protocol === 'https:') return undefined;
  } catch {
    // Said below.
  }
  return 'Enter a full web address that starts with https:// (or http://).';
}

/**
 * A form's field errors: the browser's own checks (all at once, from the first Save on, and
 * again as the person types), and the service's refusals placed next to their fields until the
 * value changes. The first field that is wrong gets the focus, so its message is read out.
 */
export function useFieldErrors<Id extends string>({
  values,
  check,
  paths = {},
}: {
  /** The current value of each control, so a refusal of one value goes away once it changes. */
  values: Partial<Record<Id, unknown>>;
  /** What the browser can tell is wrong now. */
  check: () => Problems<Id>;
  /** The API's dotted path of each field → the id of its control. */
  paths?: Readonly<Record<string, Id>>;
}) {
  const [checked, setChecked] = useState(false);
  const [refused, setRefused] = useState<Partial<Record<Id, { problem: string; value: unknown }>>>({});
  // The controls to focus the first of (in page order) after the next render; a new object each time.
  const [focusAmong, setFocusAmong] = useState<{ ids: string[] } | undefined>();
  const local: Problems<Id> = checked ? check() : {};
  const problems: Problems<Id> = { ...local };
  for (const [id, entry] of Object.entries(refused) as Array<[Id, { problem: string; value: unknown }]>) {
    if (!problems[id] && Object.is(values[id], entry.value)) problems[id] = entry.problem;
  }

  useEffect(() => {
    if (!focusAmong) return;
    const controls = focusAmong.ids
      .map((id) => document.getElementById(id))
      .filter((element): element is HTMLElement => element !== null)
      .sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    controls[0]?.focus();
  }, [focusAmong]);

  return {
    problems,
    /** Call on Save: shows every problem the browser can see; true when there is none. */
    validate: (): boolean => {
      setChecked(true);
      setRefused({});
      const ids = Object.keys(check());
      if (ids.length > 0) setFocusAmong({ ids });
      return ids.length === 0;
    },
    /**
     * Places a refused save's problems next to their fields (or, when it names none, at `at`);
     * returns what belongs to no field (to show for the whole form), or nothing when all found one.
     */
    refusal: (error: unknown, at?: Id): string | undefined => {
      const message = messageOf(error);
      // The service lists the fields it refused (`error.fields`), each with a sentence about it.
      const refusedFields = error instanceof ApiError ? error.fields : [];
      const next: Partial<Record<Id, { problem: string; value: unknown }>> = {};
      const elsewhere: string[] = [];
      for (const { field, message: problem } of refusedFields) {
        const id = paths[field];
        if (id) next[id] ??= { problem, value: values[id] };
        else elsewhere.push(`${field}: ${problem}`);
      }
      // A refusal about one field that does not name it (a key Anthropic turned down) goes where the caller says.
      if (at && refusedFields.length === 0) {
        setRefused({ [at]: { problem: message, value: values[at] } } as Partial<Record<Id, { problem: string; value: unknown }>>);
        setFocusAmong({ ids: [at] });
        return undefined;
      }
      setRefused(next);
      if (Object.keys(next).length === 0) return message;
      setFocusAmong({ ids: Object.keys(next) });
      return elsewhere.length > 0 ? elsewhere.join(' ') : undefined;
    },
    /** Forgets every problem (a form closed or saved). */
    clear: (): void => {
      setChecked(false);
      setRefused({});
    },
    control: (id: Id, ...hintIds: Array<string | undefined>): ControlProps => controlProps(id, problems[id], ...hintIds),
  };
}
