import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { buildBody, emptyDraft, ProfileEditor } from './ProfileEditor';
import { fakeApi, renderPage, signInAs } from '../test/harness';

const queued = { id: 'c9', name: 'set-charging-profile', status: 'queued', stationId: 'CP-1', createdAt: '2026-01-01T00:00:00Z', followUps: [], request: {} };

describe('buildBody', () => {
  it('sorts the periods, converts minutes to seconds and leaves out what was not given', () => {
    const body = buildBody({
      ...emptyDraft(),
      evseId: 2,
      id: 5,
      stackLevel: 1,
      purpose: 'TxDefaultProfile',
      kind: 'Recurring',
      recurrencyKind: 'Daily',
      unit: 'W',
      durationMinutes: 120,
      periods: [
        { startMinutes: 60, limit: 3700 },
        { startMinutes: 0, limit: 11000, numberPhases: 3 },
      ],
    });
    expect(body).toEqual({
      evseId: 2,
      chargingProfile: {
        id: 5,
        stackLevel: 1,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Recurring',
        recurrencyKind: 'Daily',
        chargingSchedule: [
          {
            chargingRateUnit: 'W',
            duration: 7200,
            chargingSchedulePeriod: [
              { startPeriod: 0, limit: 11000, numberPhases: 3 },
              { startPeriod: 3600, limit: 3700 },
            ],
          },
        ],
      },
    });
  });
});

describe('the profile editor', () => {
  it('builds periods on the timeline, previews them and sends the profile', async () => {
    signInAs('operator');
    const { calls } = fakeApi(({ method, url }) =>
      method === 'POST' && url.pathname === '/api/v1/stations/CP-1/commands/set-charging-profile' ? { status: 202, body: queued } : undefined,
    );
    renderPage(<ProfileEditor stationId="CP-1" evses={[1, 2]} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Add period' }));
    const limit2 = screen.getByRole('textbox', { name: 'Period 2 limit' });
    await user.clear(limit2);
    await user.type(limit2, '6');
    const preview = await screen.findByRole('table', { name: 'Profile preview periods' }, { timeout: 5000 });
    expect(within(preview).getAllByRole('row').map((r) => r.textContent)).toEqual(['Start (s)Limit (A)', '016', '36006']);
    await user.clear(screen.getByRole('textbox', { name: 'Stack level' }));
    await user.type(screen.getByRole('textbox', { name: 'Stack level' }), '2');
    await user.click(screen.getByRole('button', { name: 'Send profile' }));
    expect(await screen.findByRole('status', { name: 'Command outcome' })).toHaveTextContent('queued');
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      evseId: 1,
      chargingProfile: {
        id: 1,
        stackLevel: 2,
        chargingProfilePurpose: 'TxDefaultProfile',
        chargingProfileKind: 'Absolute',
        chargingSchedule: [
          {
            chargingRateUnit: 'A',
            chargingSchedulePeriod: [
              { startPeriod: 0, limit: 16 },
              { startPeriod: 3600, limit: 6 },
            ],
          },
        ],
      },
    });
  });

  it("shows the API's error at the period it names", async () => {
    signInAs('operator');
    fakeApi(({ method }) =>
      method === 'POST'
        ? {
            status: 422,
            body: {
              title: 'Unprocessable Content',
              status: 422,
              errors: [{ field: 'body.chargingProfile.chargingSchedule.0.chargingSchedulePeriod.0.limit', message: 'at most one decimal' }],
            },
          }
        : undefined,
    );
    renderPage(<ProfileEditor stationId="CP-1" evses={[1]} />);
    await userEvent.click(screen.getByRole('button', { name: 'Send profile' }));
    const limit = await screen.findByRole('textbox', { name: 'Period 1 limit' });
    await expect.poll(() => limit.getAttribute('aria-invalid')).toBe('true');
    const described = document.getElementById(limit.getAttribute('aria-describedby')!.split(' ').find((id) => id.includes('error'))!);
    expect(described).toHaveTextContent('at most one decimal');
    expect(screen.getByRole('alert')).toHaveTextContent('at most one decimal');
  });

  it('has no send button when the role may not send', async () => {
    signInAs('viewer');
    fakeApi(() => undefined);
    renderPage(<ProfileEditor stationId={null} />);
    expect(await screen.findByRole('table', { name: 'Profile preview periods' }, { timeout: 5000 })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Send profile' })).not.toBeInTheDocument();
  });
});
