import { describe, expect, it } from 'vitest';
import { DEFAULT_THEME, mergeMantineTheme } from '@mantine/core';
import { contrast, cssVariablesResolver, darkenTo, over, theme } from './theme';

const resolved = mergeMantineTheme(DEFAULT_THEME, theme);
// (the resolver returns CSS variables keyed by name; the test looks them up by computed names)
const light = cssVariablesResolver(resolved).light as Record<string, string>;
const gray = DEFAULT_THEME.colors.gray;

describe('theme contrast (WCAG 2.1 AA, 4.5:1 for text)', () => {
  it('measures contrast as WCAG does', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#868e96', '#ffffff')).toBeCloseTo(3.32, 2); // Mantine's dimmed grey: too light
  });

  it('darkens a colour only as far as it must', () => {
    expect(darkenTo('#000000', ['#ffffff'])).toBe('#000000');
    const blue = darkenTo(DEFAULT_THEME.colors.blue[6], ['#ffffff']);
    expect(contrast(blue, '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrast(blue, '#ffffff')).toBeLessThan(5.2);
  });

  it.each(Object.keys(DEFAULT_THEME.colors).filter((c) => c !== 'dark'))('%s text reads on every surface it is drawn on', (name) => {
    const text = light[`--mantine-color-${name}-light-color`];
    const lightFillAtItsDarkest = over(DEFAULT_THEME.colors[name][6], 0.12, gray[1]);
    for (const surface of ['#ffffff', gray[0], gray[1], lightFillAtItsDarkest]) {
      expect(contrast(text, surface)).toBeGreaterThanOrEqual(4.5);
    }
    expect(light[`--mantine-color-${name}-text`]).toBe(text);
    expect(light[`--mantine-color-${name}-outline`]).toBe(text);
    expect(contrast('#ffffff', light[`--mantine-color-${name}-filled`])).toBeGreaterThanOrEqual(4.5);
  });

  it('dims, links and placeholders legibly', () => {
    for (const variable of ['--mantine-color-dimmed', '--mantine-color-anchor', '--mantine-color-placeholder']) {
      expect(contrast(light[variable], '#ffffff')).toBeGreaterThanOrEqual(4.5);
      expect(contrast(light[variable], gray[1])).toBeGreaterThanOrEqual(4.5);
    }
  });
});
