/** The schedule's pure parts: cron translation, time-zone day boundaries, backfill ranges, option parsing. */
import { describe, expect, it } from 'vitest';
import type { DeepPartial, PipelineOptions } from '../../src/workflows/definitions';
import {
  buildScheduleOptions,
  cronOfComment,
  cronToCalendar,
  dateInZone,
  datesBetween,
  defaultSettings,
  parseDuration,
  parseOverlap,
  planBackfill,
  ScheduleSettingError,
  startOfDay,
} from '../../src/schedule';

describe('cronToCalendar', () => {
  it('turns the default cron into 19:40:00 every day and keeps the cron in the comment', () => {
    const cal = cronToCalendar('40  19 * * *');
    expect(cal).toMatchObject({
      second: 0,
      minute: [{ start: 40, end: 40, step: 1 }],
      hour: [{ start: 19, end: 19, step: 1 }],
      dayOfMonth: '*',
      month: '*',
      dayOfWeek: '*',
    });
    expect(cronOfComment(cal.comment)).toBe('40 19 * * *');
  });

  it('reads lists, ranges, steps, month and day names, and Sunday as 7', () => {
    const cal = cronToCalendar('*/15 8-18/2 * jan,JUL-sep mon-fri');
    expect(cal.minute).toEqual([{ start: 0, end: 59, step: 15 }]);
    expect(cal.hour).toEqual([{ start: 8, end: 18, step: 2 }]);
    expect(cal.month).toEqual([
      { start: 'JANUARY', end: 'JANUARY', step: 1 },
      { start: 'JULY', end: 'SEPTEMBER', step: 1 },
    ]);
    expect(cal.dayOfWeek).toEqual([{ start: 'MONDAY', end: 'FRIDAY', step: 1 }]);
    expect(cronToCalendar('0 0 * * 5-7').dayOfWeek).toEqual([
      { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
      { start: 'FRIDAY', end: 'SATURDAY', step: 1 },
    ]);
  });

  it('expands macros', () => {
    expect(cronOfComment(cronToCalendar('@daily').comment)).toBe('0 0 * * *');
  });

  it.each([
    ['40 19 * *', /has 4 fields/],
    ['61 19 * * *', /minute "61" is not in 0-59/],
    ['40 24 * * *', /hour "24" is not in 0-23/],
    ['0 0 1 * mon', /both day of month and day of week/],
    ['0 10-2 * * *', /runs backwards/],
    ['*/0 * * * *', /step "0" must be a whole number >= 1/],
    ['0 0 * foo *', /month "foo"/],
  ])('rejects %j naming the field', (cron, message) => {
    expect(() => cronToCalendar(cron)).toThrow(ScheduleSettingError);
    expect(() => cronToCalendar(cron)).toThrow(message);
  });
});

describe('time zones', () => {
  it('finds the instant a local day starts, across DST changes', () => {
    expect(startOfDay('2025-10-27', 'UTC').toISOString()).toBe('2025-10-27T00:00:00.000Z');
    // Paris: summer time (UTC+2) ends on 2025-10-26 at 03:00.
    expect(startOfDay('2025-10-26', 'Europe/Paris').toISOString()).toBe('2025-10-25T22:00:00.000Z');
    expect(startOfDay('2025-10-27', 'Europe/Paris').toISOString()).toBe('2025-10-26T23:00:00.000Z');
    // Auckland: daylight time (UTC+13) starts on 2025-09-28.
    expect(startOfDay('2025-09-28', 'Pacific/Auckland').toISOString()).toBe('2025-09-27T12:00:00.000Z');
    expect(startOfDay('2025-09-29', 'Pacific/Auckland').toISOString()).toBe('2025-09-28T11:00:00.000Z');
    expect(startOfDay('2025-03-09', 'America/New_York').toISOString()).toBe('2025-03-09T05:00:00.000Z');
  });

  it('gives the local date of an instant', () => {
    expect(dateInZone(new Date('2025-10-27T19:00:00Z'), 'Pacific/Auckland')).toBe('2025-10-28');
    expect(dateInZone(new Date('2025-10-27T03:00:00Z'), 'America/Los_Angeles')).toBe('2025-10-26');
  });

  it('lists dates across month and year ends', () => {
    expect(datesBetween('2024-12-30', '2025-01-02')).toEqual(['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']);
    expect(datesBetween('2024-02-28', '2024-03-01')).toHaveLength(3);
  });
});

describe('planBackfill', () => {
  it('covers exactly the local days, starting a second before the first midnight', () => {
    const plan = planBackfill('2025-10-01', '2025-10-07', 'Europe/Paris');
    expect(plan.dates).toHaveLength(7);
    expect(plan.start.toISOString()).toBe('2025-09-30T21:59:59.000Z');
    expect(plan.end.toISOString()).toBe('2025-10-07T21:59:59.000Z');
  });

  it('rejects reversed and huge ranges', () => {
    expect(() => planBackfill('2025-10-07', '2025-10-01', 'UTC')).toThrow(/--from: 2025-10-07 is after --to 2025-10-01/);
    expect(() => planBackfill('2000-01-01', '2025-01-01', 'UTC')).toThrow(/at most 3660 days/);
  });
});

describe('schedule options', () => {
  it('starts dailyPipeline with no run date, the trigger and the time zone, and PipelineTrigger=schedule', () => {
    const o = buildScheduleOptions({ ...defaultSettings('q1'), timeZone: 'Europe/Paris' });
    expect(o.scheduleId).toBe('daily-ecommerce-pipeline');
    expect(o.spec.timezone).toBe('Europe/Paris');
    expect(o.policies).toEqual({ overlap: 'SKIP', catchupWindow: 86_400_000 });
    expect(o.action).toMatchObject({
      workflowType: 'dailyPipeline',
      taskQueue: 'q1',
      args: [{ trigger: 'schedule', timeZone: 'Europe/Paris' }],
    });
    expect((o.action.args as { runDate?: string }[])[0]!.runDate).toBeUndefined();
    expect(o.action.typedSearchAttributes).toEqual([{ key: expect.objectContaining({ name: 'PipelineTrigger' }), value: 'schedule' }]);
  });

  it('passes per-run options to every scheduled run when given', () => {
    const options: DeepPartial<PipelineOptions> = { stages: { transform: { pollInterval: '1 second' } } };
    const o = buildScheduleOptions({ ...defaultSettings('q'), options });
    expect(o.action.args).toEqual([{ trigger: 'schedule', timeZone: 'UTC', options }]);
    expect(buildScheduleOptions({ ...defaultSettings('q'), createPaused: { note: 'n' } }).state).toEqual({ paused: true, note: 'n' });
  });

  it("names each schedule's runs after the schedule, so two schedules firing in one second do not collide", () => {
    const a = buildScheduleOptions(defaultSettings('q'));
    const b = buildScheduleOptions({ ...defaultSettings('q'), scheduleId: 'eu-shop' });
    expect(a.action.workflowId).toBe('daily-ecommerce-pipeline');
    expect(b.action.workflowId).toBe('eu-shop');
  });

  it('rejects a bad time zone, overlap policy or duration with the setting named', () => {
    expect(() => buildScheduleOptions({ ...defaultSettings('q'), timeZone: 'Mars/Olympus' })).toThrow(
      /--time-zone: "Mars\/Olympus" is not an IANA time zone/,
    );
    expect(parseOverlap('buffer-all')).toBe('BUFFER_ALL');
    expect(() => parseOverlap('sometimes')).toThrow(/--overlap: "sometimes" is not one of skip, buffer_one/);
    expect(parseDuration('12h', '--catchup-window')).toBe(43_200_000);
    expect(() => parseDuration('soon', '--catchup-window')).toThrow(/--catchup-window: "soon" is not a duration/);
  });
});
