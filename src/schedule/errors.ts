/** A schedule setting the user gave that cannot work; the message names the setting and the rule. */
export class ScheduleSettingError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'ScheduleSettingError';
  }
}
