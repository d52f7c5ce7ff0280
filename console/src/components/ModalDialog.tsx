import { useEffect, useState } from 'react';
import { Modal, type ModalProps } from '@mantine/core';

/**
 * Mantine's Modal for a dialog that is mounted open and unmounted to close it
 * (`{editing ? <ModalDialog opened …/> : null}`). Mantine gives focus back to what opened a modal
 * when its `opened` turns false; unmounted instead, focus would fall to the page's body and a
 * keyboard user would start again from the top (WCAG 2.4.3). This one gives it back itself.
 */
export function ModalDialog(props: ModalProps) {
  // Read while rendering, before the dialog's focus trap moves focus into it.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(
    () => () => {
      if (opener?.isConnected) opener.focus();
    },
    [opener],
  );
  return <Modal {...props} />;
}
