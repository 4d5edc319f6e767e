import { PREMIUM_PLANS } from '../api/types';

/** A premium field hidden by the plan, saying which plans include it. */
export function Locked({ plan }: { plan: string | null | undefined }) {
  return (
    <span class="locked" data-testid="locked">
      <svg aria-hidden="true" width="12" height="12" viewBox="0 0 16 16" fill="currentColor">
        <path d="M4 7V5a4 4 0 1 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 1 0-4 0v2z" />
      </svg>
      Available on {PREMIUM_PLANS.join('/')} plans — you are on {plan ?? 'a plan without it'}
    </span>
  );
}
