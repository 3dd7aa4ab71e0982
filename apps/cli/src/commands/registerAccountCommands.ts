import type { Command } from 'commander';
import type { CliContext } from '../CliContext.ts';
import { CliError } from '../CliError.ts';
import { readConfig, writeConfig } from '../configFile.ts';
import { createCliClient } from '../createCliClient.ts';
import { EXIT } from '../exitCodes.ts';
import type { Action } from './Action.ts';

/** `toolrun login`, `logout`, `whoami`. */
export function registerAccountCommands(program: Command, action: Action): void {
  program
    .command('login')
    .argument('[userId]', 'who to sign in as (development identity provider)')
    .option('--admin', 'with the admin role (development identity provider)')
    .description(
      'Sign in and keep the token in ~/.config/toolrun/config.json (mode 0600): as <userId> through the ' +
        "server's development identity provider, or with --token <jwt> from your identity provider",
    )
    .action(
      action(async (ctx, userId: string | undefined, opts: { admin?: boolean; token?: string }) => {
        let token: string;
        if (userId !== undefined) {
          const issued = await ctx
            .anonymousClient()
            .auth.login.mutate({ userId, role: opts.admin === true ? 'admin' : 'user' });
          token = issued.token;
        } else if (ctx.token !== undefined) {
          token = ctx.token;
        } else {
          throw new CliError(
            'give a <userId> (development sign-in) or --token <jwt> (or TOOLRUN_TOKEN)',
            EXIT.usage,
            'USAGE',
          );
        }
        // Checked before it is saved: a token the server refuses is not kept.
        const me = await createCliClient({ url: ctx.url, token }).auth.me.query();
        const config = readConfig(ctx.env.configFile);
        config.url = ctx.url;
        config.logins[ctx.url] = { token, userId: me.userId, expiresAt: me.expiresAt };
        writeConfig(ctx.env.configFile, config);
        ctx.output.record({ url: ctx.url, userId: me.userId, roles: me.roles, expiresAt: me.expiresAt, token });
        ctx.output.line(
          `${ctx.output.color.green('✔')} signed in to ${ctx.url} as ${ctx.output.color.bold(me.userId)}` +
            `${me.isAdmin ? ' (admin)' : ''}${me.expiresAt === null ? '' : `, until ${me.expiresAt}`}`,
        );
        return EXIT.ok;
      }),
    );

  program
    .command('logout')
    .description('Forget the token saved for the server')
    .action(
      action(async (ctx) => {
        const config = readConfig(ctx.env.configFile);
        const had = config.logins[ctx.url] !== undefined;
        delete config.logins[ctx.url];
        writeConfig(ctx.env.configFile, config);
        ctx.output.record({ url: ctx.url, loggedOut: had });
        ctx.output.line(had ? `signed out of ${ctx.url}` : `was not signed in to ${ctx.url}`);
        return EXIT.ok;
      }),
    );

  program
    .command('whoami')
    .description('Who the token says you are, on which server')
    .action(
      action(async (ctx: CliContext) => {
        const me = await (await ctx.client()).auth.me.query();
        ctx.output.record({ url: ctx.url, ...me });
        ctx.output.line(
          `${ctx.output.color.bold(me.userId)}${me.isAdmin ? ' (admin)' : ''} on ${ctx.url}` +
            `${me.expiresAt === null ? '' : `, token valid until ${me.expiresAt}`}`,
        );
        return EXIT.ok;
      }),
    );
}
