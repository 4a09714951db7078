import { call, HostError, type PickPurpose, type WireError } from "../ipc";
import { useI18n } from "../i18n";

/** "Choose…": the OS's own file dialog fills a path field (typing into it stays possible). */
export function BrowseButton(props: {
  purpose: PickPurpose;
  testId: string;
  label?: string;
  disabled?: boolean;
  onPicked: (path: string) => void;
  onError?: (e: WireError) => void;
}) {
  const { t } = useI18n();
  const pick = async () => {
    try {
      const p = await call("pick_path", { purpose: props.purpose });
      if (p) props.onPicked(p);
    } catch (e) {
      if (e instanceof HostError) props.onError?.(e.wire);
    }
  };
  return (
    <button type="button" class="browse" data-testid={props.testId} disabled={props.disabled} onClick={() => void pick()}>
      {props.label ?? t("pick.folder")}
    </button>
  );
}
