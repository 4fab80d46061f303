/** Per-document roles, strongest first: each includes what the ones below it may do. */
export const ROLES = ['OWNER', 'EDITOR', 'VIEWER'] as const;
export type Role = (typeof ROLES)[number];

/** Roles a share may grant (ownership moves only with transferOwnership). */
export type ShareRole = Exclude<Role, 'OWNER'>;

const RANK: Record<Role, number> = { VIEWER: 1, EDITOR: 2, OWNER: 3 };

/** Whether `role` may do what `needed` may. */
export function atLeast(role: Role | null | undefined, needed: Role): boolean {
  return !!role && RANK[role] >= RANK[needed];
}
