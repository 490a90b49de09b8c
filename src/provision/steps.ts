/**
 * A multi-step write as a list of named steps, each with what undoes it (the shape of
 * Medusa's workflows: `invoke` paired with `compensate`). Steps run in order; when one
 * fails, it and every step before it are compensated in reverse order, and the failure
 * is rethrown. A step that failed half-way compensates what it did (its context says).
 * Steps inside one database transaction need no compensation: the rollback is theirs.
 */
export interface Step<C> {
  name: string;
  invoke(context: C): Promise<void>;
  compensate?(context: C): Promise<void>;
}

/**
 * Runs the steps. A compensation that fails is reported to `undoFailed` and the others
 * still run; the error rethrown is always the one that stopped the work, which is what
 * the client is answered.
 */
export async function runSteps<C>(
  steps: Step<C>[],
  context: C,
  undoFailed: (step: string, err: unknown) => void,
): Promise<void> {
  const started: Step<C>[] = [];
  try {
    for (const step of steps) {
      started.push(step);
      await step.invoke(context);
    }
  } catch (err) {
    for (const step of started.reverse()) {
      try {
        await step.compensate?.(context);
      } catch (undoErr) {
        undoFailed(step.name, undoErr);
      }
    }
    throw err;
  }
}
