/**
 * The console's theme: Mantine's, made to meet WCAG 2.1 AA (issue 14).
 *
 * Mantine's default light colours are drawn for looks: its blue-6 on white is 3.6:1, green-6
 * 2.4:1 and the dimmed grey 3.3:1, under the 4.5:1 that body-size text needs. Rather than pick
 * new colours by hand for each of the fourteen palettes, every colour that carries text is
 * darkened (in Mantine's own steps) just until it reaches {@link TEXT_CONTRAST} against every
 * background it is drawn on; the palettes themselves (and so the charts' and diagram's fills)
 * stay Mantine's. The browser test `tests/e2e/test_accessibility.py` checks the result with axe.
 */
import {
  createTheme,
  darken,
  DEFAULT_THEME,
  luminance,
  toRgba,
  type CSSVariablesResolver,
} from '@mantine/core';

/** WCAG's 4.5:1 for normal text, with a little room for rounding. */
export const TEXT_CONTRAST = 4.6;

const WHITE = '#ffffff';

/** WCAG 2.1 contrast ratio of two colours (alpha ignored: pass opaque ones). */
export function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

/** `color` at `opacity` over `base`, as the browser draws Mantine's translucent "light" fills. */
export function over(color: string, opacity: number, base = WHITE): string {
  const top = toRgba(color);
  const bottom = toRgba(base);
  const mix = (c: number, d: number) => Math.round(c * opacity + d * (1 - opacity));
  return `rgb(${mix(top.r, bottom.r)}, ${mix(top.g, bottom.g)}, ${mix(top.b, bottom.b)})`;
}

/** `color`, darkened in 2 % steps until it reaches `ratio` against each of `backgrounds`. */
export function darkenTo(color: string, backgrounds: string[], ratio = TEXT_CONTRAST): string {
  for (let step = 0; step <= 50; step += 1) {
    const candidate = step ? darken(color, step * 0.02) : color;
    if (backgrounds.every((bg) => contrast(candidate, bg) >= ratio)) return candidate;
  }
  return '#000000';
}

const gray = DEFAULT_THEME.colors.gray;
/** What text sits on: the page, striped and hovered table rows, the default button. */
const SURFACES = [WHITE, gray[0], gray[1]];

/** The light scheme's text-bearing variables of one palette, each brought to AA. */
function accessibleColor(name: string): Record<string, string> {
  const shade = DEFAULT_THEME.colors[name][6];
  // Mantine's -light fill is the shade at 10 % (12 % hovered), and it is translucent: the
  // darkest it gets is hovered on a striped row.
  const text = darkenTo(shade, [...SURFACES, over(shade, 0.12, gray[1])]);
  const filled = darkenTo(shade, [WHITE]); // white text on it
  return {
    [`--mantine-color-${name}-text`]: text,
    [`--mantine-color-${name}-light-color`]: text,
    [`--mantine-color-${name}-outline`]: text,
    [`--mantine-color-${name}-filled`]: filled,
    [`--mantine-color-${name}-filled-hover`]: darken(filled, 0.1),
  };
}

const cssVariablesResolver: CSSVariablesResolver = (theme) => {
  const light: Record<string, string> = {};
  for (const name of Object.keys(theme.colors)) {
    if (name !== 'dark') Object.assign(light, accessibleColor(name));
  }
  const dimmed = darkenTo(gray[6], [...SURFACES, over(DEFAULT_THEME.colors.blue[6], 0.12, gray[1])]);
  return {
    variables: {},
    light: {
      ...light,
      '--mantine-color-anchor': light[`--mantine-color-${theme.primaryColor}-text`],
      '--mantine-color-dimmed': dimmed,
      // Placeholders are text too (WCAG 1.4.3), though axe does not judge them.
      '--mantine-color-placeholder': dimmed,
    },
    dark: {},
  };
};

export const theme = createTheme({
  components: {
    // Icon-only controls get a name (axe: button-name): Mantine draws them as bare SVGs.
    // (Plain objects, not Modal.extend: that would pull the lazily loaded Modal into the
    // initial bundle.)
    // Its title bar is a <header>, which Chromium exposes as a second banner landmark while a
    // dialog is open (axe: landmark-no-duplicate-banner); it is only the dialog's title row.
    Modal: { defaultProps: { closeButtonProps: { 'aria-label': 'Close' }, attributes: { header: { role: 'presentation' } } } },
    // A long option list scrolls, and Chromium makes a scrolling box a Tab stop of its own: Tab
    // from the field then lands on the (closing) list and focus falls out of a dialog. The
    // options are reached with the arrow keys from the field (aria-activedescendant), so the
    // scroller is taken out of the Tab order.
    Select: { defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: -1 } } } },
    MultiSelect: { defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: -1 } } } },
    Autocomplete: { defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: -1 } } } },
    Pagination: {
      defaultProps: {
        getControlProps: (control: string) => ({ 'aria-label': `${control[0].toUpperCase()}${control.slice(1)} page` }),
        getItemProps: (page: number) => ({ 'aria-label': `Page ${page}` }),
      },
    },
  },
});

export { cssVariablesResolver };
