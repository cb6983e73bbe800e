import { z } from 'zod';
import { builder } from '../builder.js';
import { RoleEnum } from './enums.js';
import type { Role } from '../../generated/prisma/enums.js';
import { MIN_PASSWORD_LENGTH } from '../../services/auth/passwords.js';
import { SESSION_COOKIE, SESSION_TTL_SECONDS } from '../../services/auth/identity.js';
import { DEVICE_COOKIE, DEVICE_COOKIE_TTL_SECONDS } from '../../services/auth/device-cookie.js';
import type { Context } from '../context.js';

export const User = builder.prismaObject('User', {
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    disabled: t.boolean({ select: { disabledAt: true }, resolve: (user) => user.disabledAt !== null, description: 'A disabled user can neither sign in nor use API tokens.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('Invite', {
  description: 'An invitation not used yet: its link lets the invited person register with this e-mail address and role.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    role: t.expose('role', { type: RoleEnum }),
    invitedBy: t.relation('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const InvitationPreview = builder.objectRef<{ email: string; role: Role; expiresAt: Date }>('InvitationPreview').implement({
  description: 'What the registration form shows of a valid invitation, found by its token.',
  fields: (t) => ({
    email: t.exposeString('email', { description: 'Registration must use this address.' }),
    role: t.expose('role', { type: RoleEnum }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const Session = builder.prismaObject('Session', {
  description: 'A signed-in browser (the token itself is never stored, only its hash).',
  fields: (t) => ({
    id: t.exposeID('id'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    current: t.boolean({ description: 'The session of this request.', resolve: (session, _args, ctx) => session.id === ctx.identity?.sessionId }),
  }),
});

const Viewer = builder.objectRef<{ userId: string | null; role: Role | null }>('Viewer').implement({
  description: 'The caller, signed in or not, and what it may do.',
  fields: (t) => ({
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, viewer, _args, ctx) => (viewer.userId ? ctx.prisma.user.findUnique({ ...query, where: { id: viewer.userId } }) : null),
    }),
    role: t.field({ type: RoleEnum, nullable: true, resolve: (viewer) => viewer.role }),
    canOperate: t.boolean({ resolve: (viewer) => viewer.role === 'ADMIN' || viewer.role === 'OPERATOR' }),
    canAdmin: t.boolean({ resolve: (viewer) => viewer.role === 'ADMIN' }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    resolve: (_root, _args, ctx) => ({ userId: ctx.identity?.user.id ?? null, role: ctx.identity?.user.role ?? null }),
  }),
  me: t.prismaField({
    type: 'User',
    nullable: true,
    resolve: (query, _root, _args, ctx) => (ctx.identity ? ctx.prisma.user.findUnique({ ...query, where: { id: ctx.identity.user.id } }) : null),
  }),
  mySessions: t.prismaConnection({
    type: 'Session',
    cursor: 'id',
    authScopes: { authenticated: true },
    description: 'Your sessions that have not expired or been revoked, newest first.',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.session.findMany({ ...query, where: { userId: ctx.identity!.user.id, revokedAt: null, expiresAt: { gt: new Date() } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
  pendingInvitations: t.prismaField({
    type: ['Invite'],
    authScopes: { role: 'ADMIN' },
    description: 'Invitations not used, revoked or expired yet, newest first.',
    resolve: (query, _root, _args, ctx) => ctx.services.accounts.pendingInvites(query),
  }),
  invitation: t.field({
    type: InvitationPreview,
    nullable: true,
    authScopes: { public: true },
    description: 'The invitation a registration link carries, by its token: null when it is unknown, used, revoked or expired. Misses are rate limited like failed sign-ins.',
    args: { token: t.arg.string({ required: true, validate: { schema: z.string().max(200) } }) },
    resolve: (_root, { token }, ctx) => ctx.services.accounts.inviteByToken(token, ctx.clientAddress),
  }),
  users: t.prismaConnection({
    type: 'User',
    cursor: 'id',
    authScopes: { role: 'ADMIN' },
    resolve: (query, _root, _args, ctx) => ctx.prisma.user.findMany({ ...query, orderBy: { email: 'asc' } }),
  }),
}));

const email = z.string().trim().toLowerCase().email('must be an e-mail address').max(254);
const password = z.string().min(MIN_PASSWORD_LENGTH, `must have at least ${MIN_PASSWORD_LENGTH} characters`).max(1024);
const displayName = z.string().trim().min(1, 'must not be empty').max(100).regex(/^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]*$/u, 'must not contain control or formatting characters');

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: { schema: email } }),
    name: t.string({ required: true, validate: { schema: displayName } }),
    password: t.string({ required: true, validate: { schema: password } }),
    inviteToken: t.string({ description: 'Needed for everyone but the first user.', validate: { schema: z.string().max(200) } }),
  }),
});

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: { schema: z.string().max(254) } }),
    password: t.string({ required: true, validate: { schema: z.string().max(1024) } }),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: { schema: email } }),
    name: t.string({ required: true, validate: { schema: displayName } }),
    password: t.string({ required: true, validate: { schema: password } }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const CreateInviteInput = builder.inputType('CreateInviteInput', {
  fields: (t) => ({
    email: t.string({ required: true, validate: { schema: email } }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const AuthPayload = builder.objectRef<{ userId: string }>('AuthPayload').implement({
  fields: (t) => ({
    user: t.prismaField({ type: 'User', resolve: (query, payload, _args, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: payload.userId } }) }),
  }),
});

interface InviteShape {
  inviteId: string;
  email: string;
  role: Role;
  token: string;
  expiresAt: Date;
}

const InvitePayload = builder.objectRef<InviteShape>('InvitePayload').implement({
  fields: (t) => ({
    inviteId: t.exposeID('inviteId'),
    email: t.exposeString('email'),
    role: t.expose('role', { type: RoleEnum }),
    token: t.exposeString('token', { description: 'Shown once: give it to the invited person, who passes it to `register`.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

/** Signs in and sets the session cookie and the device cookie that makes this browser a known device for the account. */
async function signIn(ctx: Context, input: { email: string; password: string }) {
  const { user, token, deviceCookie } = await ctx.services.accounts.login(input.email, input.password, ctx.clientAddress, ctx.cookies.get(DEVICE_COOKIE));
  ctx.cookies.set(SESSION_COOKIE, token, { maxAgeSeconds: SESSION_TTL_SECONDS });
  ctx.cookies.set(DEVICE_COOKIE, deviceCookie, { maxAgeSeconds: DEVICE_COOKIE_TTL_SECONDS });
  return user;
}

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayload,
    authScopes: { public: true },
    description: 'Creates an account. The first user becomes admin; later ones need an invitation. Signs the new user in.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const user = await ctx.services.accounts.register(input, ctx.clientAddress);
      await signIn(ctx, input);
      return { userId: user.id };
    },
  }),
  login: t.field({
    type: AuthPayload,
    authScopes: { public: true },
    // Accounts.login audits these refusals itself, with the e-mail address and the reason
    // (SERVICE_UNAVAILABLE: the LDAP directory could not be reached).
    extensions: { auditsRefusals: ['UNAUTHENTICATED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'] },
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const user = await signIn(ctx, input);
      return { userId: user.id };
    },
  }),
  logout: t.boolean({
    authScopes: { public: true },
    resolve: async (_root, _args, ctx) => {
      ctx.cookies.clear(SESSION_COOKIE);
      return ctx.services.accounts.logout(ctx.identity);
    },
  }),
  createUser: t.prismaField({
    type: 'User',
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const user = await ctx.services.accounts.createUser(ctx.identity!, input);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: user.id } });
    },
  }),
  createInvite: t.field({
    type: InvitePayload,
    authScopes: { role: 'ADMIN' },
    args: { input: t.arg({ type: CreateInviteInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { invite, token } = await ctx.services.accounts.createInvite(ctx.identity!, input);
      return { inviteId: invite.id, email: invite.email, role: invite.role, token, expiresAt: invite.expiresAt };
    },
  }),
  revokeInvitation: t.id({
    authScopes: { role: 'ADMIN' },
    description: 'Withdraws a pending invitation (audited): its link no longer registers anyone. Returns its id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.accounts.revokeInvite(ctx.identity!, String(id))).id,
  }),
  changeUserRole: t.prismaField({
    type: 'User',
    authScopes: { role: 'ADMIN' },
    description: "Sets a user's role and ends their sessions. For an OIDC or LDAP account (authSource) the provider's groups set the role again at the next sign-in (and, for LDAP, at the next directory sync).",
    args: { userId: t.arg.id({ required: true }), role: t.arg({ type: RoleEnum, required: true }) },
    resolve: async (query, _root, args, ctx) => {
      await ctx.services.accounts.changeRole(ctx.identity!, String(args.userId), args.role);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: String(args.userId) } });
    },
  }),
  setUserDisabled: t.prismaField({
    type: 'User',
    authScopes: { role: 'ADMIN' },
    description: 'Disables (or enables again) a user; disabling ends their sessions and stops their API tokens.',
    args: { userId: t.arg.id({ required: true }), disabled: t.arg.boolean({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      await ctx.services.accounts.setDisabled(ctx.identity!, String(args.userId), args.disabled);
      return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: String(args.userId) } });
    },
  }),
  revokeSession: t.prismaField({
    type: Session,
    authScopes: { authenticated: true },
    description: 'Signs one of your sessions out (an admin: anyone\'s).',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      await ctx.services.accounts.revokeSession(ctx.identity!, String(id));
      return ctx.prisma.session.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
  revokeUserSessions: t.int({
    authScopes: { role: 'ADMIN' },
    description: 'Signs a user out everywhere; returns how many sessions ended.',
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, { userId }, ctx) => ctx.services.accounts.revokeUserSessions(ctx.identity!, String(userId)),
  }),
}));
