import { useState } from "preact/hooks";
import type { BackupReport, OpenedStore, Selection } from "../ipc";
import { useI18n, type MessageKey } from "../i18n";
import { StoreStep } from "../wizard/store-step";
import { SelectStep } from "../wizard/select-step";
import { TargetStep } from "../wizard/target-step";
import { ProtectStep } from "../wizard/protect-step";
import { RunStep } from "../wizard/run-step";
import { DoneStep } from "../wizard/done-step";

const STEPS: readonly MessageKey[] = [
  "wizard.step.store",
  "wizard.step.select",
  "wizard.step.target",
  "wizard.step.protect",
  "wizard.step.run",
  "wizard.step.done",
];

const EMPTY: Selection = { all: false, conversations: [], since: null, until: null };

/** The backup wizard: store, selection, target, key, run, done. */
export function BackupPage({ onSchedule }: { onSchedule: () => void }) {
  const { t } = useI18n();
  const [step, setStep] = useState(0);
  const [store, setStore] = useState<OpenedStore | null>(null);
  const [selection, setSelection] = useState<Selection>(EMPTY);
  const [url, setUrl] = useState<string | null>(null);
  const [report, setReport] = useState<BackupReport | null>(null);

  return (
    <section>
      <h1 data-testid="page-title">{t("backup.title")}</h1>
      <p class="muted">{t("backup.intro")}</p>
      <ol class="stepper" data-testid="stepper">
        {STEPS.map((key, i) => (
          <li key={key} class={i === step ? "current" : i < step ? "done" : ""} aria-current={i === step ? "step" : undefined}>
            <span class="num">{i + 1}</span> {t(key)}
          </li>
        ))}
      </ol>
      {step === 0 && (
        <StoreStep
          onOpened={(s) => {
            setStore(s);
            setSelection(EMPTY);
            setStep(1);
          }}
        />
      )}
      {step === 1 && store && (
        <>
          <SelectStep store={store} selection={selection} onChange={setSelection} />
          <div class="wizard-nav">
            <button type="button" data-testid="wizard-back" onClick={() => setStep(0)}>
              {t("wizard.back")}
            </button>
            <button type="button" class="primary" data-testid="wizard-next" disabled={selection.conversations.length === 0} onClick={() => setStep(2)}>
              {t("wizard.next")}
            </button>
          </div>
        </>
      )}
      {step === 2 && (
        <>
          <TargetStep
            onReady={(u) => {
              setUrl(u);
              setStep(3);
            }}
          />
          <button type="button" data-testid="wizard-back" onClick={() => setStep(1)}>
            {t("wizard.back")}
          </button>
        </>
      )}
      {step === 3 && url && <ProtectStep url={url} onReady={() => setStep(4)} />}
      {step === 4 && url && (
        <RunStep
          url={url}
          selection={selection}
          onDone={(r) => {
            setReport(r);
            setStep(5);
          }}
        />
      )}
      {step === 5 && url && report && (
        <DoneStep url={url} selection={selection} report={report} onSchedule={onSchedule} onAgain={() => setStep(4)} />
      )}
    </section>
  );
}
