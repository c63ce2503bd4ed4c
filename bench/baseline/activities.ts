/**
 * The baseline's one activity: does nothing, and records when it completed (its return value).
 */
export const baselineActivities = {
  async noop(): Promise<number> {
    return Date.now();
  },
};

export type BaselineActivities = typeof baselineActivities;
