import { useState } from "preact/hooks";
import type { BackupReport, OpenedStore, Selection } from "../ipc";
import { useI18n, type MessageKey } from "../i18n";
import { StoreStep } from "../wizard/store-step";
import { SelectStep } from "../wizard/select-step";
import { TargetStep } from "../wizard/target-step";
import { ProtectStep } from "../wizard/protect-step";
import { RunStep } from "../wizard/run-step";
import { DoneStep } from "../wizard/done-step";

/** Where the wizard is, with what that step needs: a step cannot be shown without its inputs. */
export type WizardStep =
  | { kind: "store" }
  | { kind: "select"; store: OpenedStore }
  | { kind: "target"; store: OpenedStore }
  | { kind: "protect"; store: OpenedStore; url: string }
  | { kind: "run"; store: OpenedStore; url: string }
  | { kind: "done"; store: OpenedStore; url: string; report: BackupReport };

const STEPS: readonly { kind: WizardStep["kind"]; label: MessageKey }[] = [
  { kind: "store", label: "wizard.step.store" },
  { kind: "select", label: "wizard.step.select" },
  { kind: "target", label: "wizard.step.target" },
  { kind: "protect", label: "wizard.step.protect" },
  { kind: "run", label: "wizard.step.run" },
  { kind: "done", label: "wizard.step.done" },
];

const EMPTY: Selection = { all: false, conversations: [], since: null, until: null };

/** The backup wizard: store, selection, target, key, run, done. */
export function BackupPage({ onSchedule }: { onSchedule: () => void }) {
  const { t } = useI18n();
  const [step, setStep] = useState<WizardStep>({ kind: "store" });
  // Kept across Back from the target step; a newly opened store starts with an empty one.
  const [selection, setSelection] = useState<Selection>(EMPTY);
  const at = STEPS.findIndex((s) => s.kind === step.kind);

  return (
    <section>
      <h1 data-testid="page-title">{t("backup.title")}</h1>
      <p class="muted">{t("backup.intro")}</p>
      <ol class="stepper" data-testid="stepper">
        {STEPS.map(({ kind, label }, i) => (
          <li key={kind} class={i === at ? "current" : i < at ? "done" : ""} aria-current={i === at ? "step" : undefined}>
            <span class="num">{i + 1}</span> {t(label)}
          </li>
        ))}
      </ol>
      {step.kind === "store" && (
        <StoreStep
          onOpened={(store) => {
            setSelection(EMPTY);
            setStep({ kind: "select", store });
          }}
        />
      )}
      {step.kind === "select" && (
        <>
          <SelectStep store={step.store} selection={selection} onChange={setSelection} />
          <div class="wizard-nav">
            <button type="button" data-testid="wizard-back" onClick={() => setStep({ kind: "store" })}>
              {t("wizard.back")}
            </button>
            <button
              type="button"
              class="primary"
              data-testid="wizard-next"
              disabled={selection.conversations.length === 0}
              onClick={() => setStep({ kind: "target", store: step.store })}
            >
              {t("wizard.next")}
            </button>
          </div>
        </>
      )}
      {step.kind === "target" && (
        <>
          <TargetStep onReady={(url) => setStep({ kind: "protect", store: step.store, url })} />
          <button type="button" data-testid="wizard-back" onClick={() => setStep({ kind: "select", store: step.store })}>
            {t("wizard.back")}
          </button>
        </>
      )}
      {step.kind === "protect" && <ProtectStep url={step.url} onReady={() => setStep({ kind: "run", store: step.store, url: step.url })} />}
      {step.kind === "run" && (
        <RunStep url={step.url} selection={selection} onDone={(report) => setStep({ kind: "done", store: step.store, url: step.url, report })} />
      )}
      {step.kind === "done" && (
        <DoneStep
          url={step.url}
          selection={selection}
          report={step.report}
          onSchedule={onSchedule}
          onAgain={() => setStep({ kind: "run", store: step.store, url: step.url })}
        />
      )}
    </section>
  );
}
