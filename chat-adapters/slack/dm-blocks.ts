/**
 * The messages of the step-by-step request by direct message: pick the access, pick a duration, say why.
 */
import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../policy/duration';
import { ACTIONS, BLOCKS } from './ids';

const cancel = {
  type: 'button' as const,
  text: { type: 'plain_text' as const, text: 'Cancel' },
  action_id: ACTIONS.dmCancel,
};

export function askAccess(): { text: string; blocks: KnownBlock[] } {
  const text = 'What do you need access to?';
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } },
      {
        type: 'actions',
        block_id: BLOCKS.access,
        elements: [
          {
            type: 'external_select',
            action_id: ACTIONS.access,
            min_query_length: 0,
            placeholder: { type: 'plain_text', text: 'Search resources' },
          },
          cancel,
        ],
      },
    ],
  };
}

/** Duration buttons: the flow's default, then common lengths up to its maximum. */
export function askDuration(
  label: string,
  defaultMs: number,
  maxMs: number,
): { text: string; blocks: KnownBlock[] } {
  const choices = [...new Set([defaultMs, 15 * 60_000, 3_600_000, 4 * 3_600_000, 8 * 3_600_000])]
    .filter((ms) => ms <= maxMs)
    .sort((a, b) => a - b)
    .slice(0, 5);
  const text = `${label}: for how long? (at most ${formatDuration(maxMs)})`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        block_id: BLOCKS.duration,
        elements: [
          ...choices.map((ms) => ({
            type: 'button' as const,
            text: {
              type: 'plain_text' as const,
              text: formatDuration(ms) + (ms === defaultMs ? ' (default)' : ''),
            },
            action_id: `${ACTIONS.dmDuration}_${ms}`,
            value: String(ms),
          })),
          cancel,
        ],
      },
    ],
  };
}

export function askReason(required: boolean): { text: string; blocks: KnownBlock[] } {
  const text = required
    ? 'Why do you need it? Reply with your justification.'
    : 'Why do you need it? Reply with your justification, or skip.';
  const buttons = required
    ? [cancel]
    : [
        {
          type: 'button' as const,
          text: { type: 'plain_text' as const, text: 'Skip' },
          action_id: ACTIONS.dmSkipReason,
        },
        cancel,
      ];
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'actions', block_id: BLOCKS.reason, elements: buttons },
    ],
  };
}
