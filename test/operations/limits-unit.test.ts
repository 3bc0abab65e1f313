import { describe, expect, it } from 'vitest';
import { DailyBudget } from '../../main/core/budget.js';
import { startOfMachineDay } from '../../main/core/calendar.js';
import { UpstreamGate } from '../../main/core/upstream-gate.js';

describe('the bound on calls to Claude at once', () => {
  it('lets calls through up to the limit, and the rest wait in line, first come first served', async () => {
    const gate = new UpstreamGate({ limit: () => 2 });
    const first = await gate.acquire();
    const second = await gate.acquire();
    const admitted: string[] = [];
    const third = gate.acquire().then((release) => (admitted.push('third'), release));
    const fourth = gate.acquire().then((release) => (admitted.push('fourth'), release));
    await Promise.resolve();
    expect([gate.inFlight, gate.waiting]).toEqual([2, 2]);
    first();
    (await third)();
    second();
    (await fourth)();
    expect(admitted).toEqual(['third', 'fourth']);
    expect([gate.inFlight, gate.waiting]).toEqual([0, 0]);
  });

  it('gives a slot back only once, however often release is called', async () => {
    const gate = new UpstreamGate({ limit: () => 1 });
    const release = await gate.acquire();
    release();
    release();
    expect(gate.inFlight).toBe(0);
  });

  it('takes a waiter whose client hung up out of the line', async () => {
    const gate = new UpstreamGate({ limit: () => 1 });
    const held = await gate.acquire();
    const leaving = new AbortController();
    const waiting = gate.acquire(leaving.signal);
    leaving.abort();
    await expect(waiting).rejects.toMatchObject({ type: 'cancelled' });
    expect(gate.waiting).toBe(0);
    held();
    expect(gate.inFlight).toBe(0);
  });

  it('refuses at once with 503 and Retry-After when the line is full', async () => {
    const gate = new UpstreamGate({ limit: () => 1, maxWaiting: 1 });
    await gate.acquire();
    void gate.acquire();
    await expect(gate.acquire()).rejects.toMatchObject({ type: 'overloaded', status: 503, retryAfterSeconds: 5 });
  });

  it('admits more at once when the limit is raised', async () => {
    let limit = 1;
    const gate = new UpstreamGate({ limit: () => limit });
    const first = await gate.acquire();
    const second = gate.acquire();
    limit = 2;
    first();
    (await second)();
    expect(gate.inFlight).toBe(0);
  });
});

describe('the daily budget', () => {
  const noon = new Date(2026, 10, 27, 12, 0, 0).getTime();

  it('is off at 0 whatever was spent', () => {
    const budget = new DailyBudget({ limitUsd: () => 0, spentSince: () => 1_000, now: () => noon });
    expect(budget.check()).toBeUndefined();
  });

  it('starts the day from the ledger, adds each answer, and refuses once the cap is reached until midnight', () => {
    const asked: number[] = [];
    const budget = new DailyBudget({
      limitUsd: () => 1,
      spentSince: (since) => (asked.push(since), 0.75),
      now: () => noon,
    });
    expect(budget.check()).toBeUndefined();
    expect(asked).toEqual([startOfMachineDay(noon)]);
    budget.add(0.2, noon);
    expect(budget.check()).toBeUndefined();
    budget.add(0.05, noon);
    const refused = budget.check();
    expect(refused).toMatchObject({ type: 'daily_budget_reached', status: 429, retryAfterSeconds: 12 * 3600 });
    expect(refused?.message).toContain('$1.00');
    expect(refused?.message).toContain('budget.dailyUsd');
  });

  it('begins again at local midnight', () => {
    let now = noon;
    const budget = new DailyBudget({ limitUsd: () => 1, spentSince: (since) => (since > noon ? 0 : 2), now: () => now });
    expect(budget.check()).toBeDefined();
    now = new Date(2026, 10, 28, 0, 0, 1).getTime();
    expect(budget.check()).toBeUndefined();
    expect(budget.spentToday()).toBe(0);
  });

  it('does not count an answer twice when it starts the day (the ledger already holds it)', () => {
    const budget = new DailyBudget({ limitUsd: () => 1, spentSince: () => 0.5, now: () => noon });
    budget.add(0.5, noon);
    expect(budget.spentToday()).toBe(0.5);
  });
});
