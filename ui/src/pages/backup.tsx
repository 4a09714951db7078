import { useState } from "preact/hooks";
import type { OpenedStore, Selection } from "../ipc";
import { useI18n, type MessageKey } from "../i18n";
import { StoreStep } from "../wizard/store-step";
import { SelectStep } from "../wizard/select-step";

const STEPS: readonly MessageKey[] = [
  "wizard.step.store",
  "wizard.step.select",
  "wizard.step.target",
  "wizard.step.protect",
  "wizard.step.run",
  "wizard.step.done",
];

/** The backup wizard. Steps 3 to 6 arrive with the repository and targets. */
export function BackupPage() {
  const { t } = useI18n();
  const [step, setStep] = useState(0);
  const [store, setStore] = useState<OpenedStore | null>(null);
  const [selection, setSelection] = useState<Selection>({ conversations: [], since: null, until: null });

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
            setSelection({ conversations: [], since: null, until: null });
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
            <span class="muted">{t("wizard.later")}</span>
          </div>
        </>
      )}
    </section>
  );
}
