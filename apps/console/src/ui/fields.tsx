import type { ComponentChildren } from 'preact';
import type { FieldError } from '../api/problem.js';

/** A labelled control with its hint and its errors, linked by `aria-describedby`. */

interface FieldFrameProps {
  readonly id: string;
  /** Text, or text with a visually hidden part (`<span class="visually-hidden">Limit 1: </span>per`). */
  readonly label: ComponentChildren;
  readonly hint?: string | undefined;
  readonly errors?: readonly FieldError[] | undefined;
  readonly children: ComponentChildren;
}

/** The ids an input should name in `aria-describedby`. */
export function describedBy(id: string, hint: string | undefined, errors: readonly FieldError[] | undefined): string | undefined {
  const ids = [hint === undefined ? undefined : `${id}-hint`, errors !== undefined && errors.length > 0 ? `${id}-error` : undefined].filter((value) => value !== undefined);
  return ids.length === 0 ? undefined : ids.join(' ');
}

export function FieldFrame({ id, label, hint, errors, children }: FieldFrameProps) {
  return (
    <div class={errors !== undefined && errors.length > 0 ? 'field field-invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint === undefined ? null : (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {errors === undefined || errors.length === 0 ? null : (
        <p class="field-error" id={`${id}-error`}>
          {errors.map((error) => error.message).join('; ')}
        </p>
      )}
    </div>
  );
}

export interface TextFieldProps {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onValue: (value: string) => void;
  readonly type?: 'text' | 'search' | 'number' | 'datetime-local';
  readonly hint?: string;
  readonly errors?: readonly FieldError[];
  readonly required?: boolean;
  readonly autoComplete?: string;
  readonly placeholder?: string;
  readonly min?: number;
  readonly max?: number;
  readonly maxLength?: number;
  readonly spellcheck?: boolean;
}

export function TextField(props: TextFieldProps) {
  const { id, label, value, onValue, type = 'text', hint, errors, required = false } = props;
  return (
    <FieldFrame id={id} label={label} hint={hint} errors={errors}>
      <input
        id={id}
        name={id}
        // Preact's types narrow attributes per input type; these props suit every type offered here.
        type={type as 'text'}
        value={value}
        required={required}
        aria-invalid={errors !== undefined && errors.length > 0 ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, errors)}
        autoComplete={props.autoComplete ?? 'off'}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        maxLength={props.maxLength}
        spellcheck={props.spellcheck ?? false}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
    </FieldFrame>
  );
}

export interface SelectFieldProps<T extends string> {
  readonly id: string;
  readonly label: ComponentChildren;
  readonly value: T;
  readonly options: readonly { readonly value: T; readonly label: string }[];
  readonly onValue: (value: T) => void;
  readonly hint?: string;
  readonly errors?: readonly FieldError[];
}

export function SelectField<T extends string>({ id, label, value, options, onValue, hint, errors }: SelectFieldProps<T>) {
  return (
    <FieldFrame id={id} label={label} hint={hint} errors={errors}>
      <select
        id={id}
        name={id}
        value={value}
        aria-invalid={errors !== undefined && errors.length > 0 ? 'true' : undefined}
        aria-describedby={describedBy(id, hint, errors)}
        onChange={(event) => onValue(event.currentTarget.value as T)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}
