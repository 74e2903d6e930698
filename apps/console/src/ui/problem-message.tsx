import { otherErrors, type Problem } from '../api/problem.js';

export interface ProblemMessageProps {
  readonly problem: Problem;
  /** Field errors shown beside their fields; the others are listed here. @default [] */
  readonly fieldErrorsShownElsewhere?: readonly string[];
}

/**
 * An error answer in plain words: the title, the detail, field errors that have no field of their
 * own, and the request id (small, for support). Announced to screen readers as it appears.
 */
export function ProblemMessage({ problem, fieldErrorsShownElsewhere = [] }: ProblemMessageProps) {
  const rest = otherErrors(problem, fieldErrorsShownElsewhere);
  return (
    <div class="problem" role="alert">
      <p class="problem-title">{problem.title}</p>
      {problem.detail === undefined ? null : <p class="problem-detail">{problem.detail}</p>}
      {rest.length === 0 ? null : (
        <ul class="problem-errors">
          {rest.map((error) => (
            <li key={`${error.path}:${error.message}`}>
              {error.path === '(body)' ? '' : <code>{error.path}</code>} {error.message}
            </li>
          ))}
        </ul>
      )}
      <RequestId problem={problem} />
    </div>
  );
}

/** The request id of a problem, small: what support asks for to find the request in the logs. */
export function RequestId({ problem }: { readonly problem: Problem }) {
  if (problem.requestId === undefined) return null;
  return (
    <p class="request-id">
      <small>
        Request id <code>{problem.requestId}</code>
      </small>
    </p>
  );
}
