import { builder } from './builder.js';
import './types/scalars.js';
import './types/user.js';
import './types/auth.js';
import './types/document.js';
import './types/edit.js';
import './types/changes.js';
import './types/presence.js';
import './types/versions.js';
import './types/operations.js';
import './types/diff.js';
import './types/sharing.js';
import './types/account.js';
import './types/audit.js';
import './types/export.js';
import './types/activity.js';
import './types/authorship.js';

export const schema = builder.toSchema({ sortSchema: true });
