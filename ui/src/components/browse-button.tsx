import { call, type PickPurpose, type WireError } from "../ipc";
import { useAction } from "../action";
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
  // Without onError, an error is dropped: the field stays open to typing.
  const { fail } = useAction(props.onError ?? (() => undefined));
  const pick = () =>
    call("pick_path", { purpose: props.purpose })
      .then((p) => p && props.onPicked(p))
      .catch(fail);
  return (
    <button type="button" class="browse" data-testid={props.testId} disabled={props.disabled} onClick={() => void pick()}>
      {props.label ?? t("pick.folder")}
    </button>
  );
}
