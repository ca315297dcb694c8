import { describe, expect, it } from 'vitest';
import { classifyRedisError } from './redis-errors.ts';
import { RedisProblemLog } from './redis-problem-log.ts';

const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('classifyRedisError', () => {
  it.each([
    ['WRONGPASS invalid username-password pair or user is disabled.', 'auth', 'WRONGPASS', 'error'],
    ['NOAUTH Authentication required.', 'auth', 'NOAUTH', 'error'],
    ["NOPERM User framecast-agent-x has no permissions to access the 'video_other' channel", 'noperm', 'NOPERM', 'error'],
    ["OOM command not allowed when used memory > 'maxmemory'.", 'oom', 'OOM', 'error'],
    ["READONLY You can't write against a read only replica.", 'readonly', 'READONLY', 'error'],
    ['MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.', 'misconf', 'MISCONF', 'error'],
    ['LOADING Redis is loading the dataset in memory', 'loading', 'LOADING', 'warn'],
    ['BUSY Redis is busy running a script.', 'busy', 'BUSY', 'warn'],
  ])('%s → %s', (message, reason, code, level) => {
    expect(classifyRedisError(replyError(message))).toMatchObject({ reason, code, level, detail: message });
  });

  it('keeps the code of a command refused inside a Lua script and drops the script location', () => {
    const err = replyError("OOM command not allowed when used memory > 'maxmemory'. script: dde807505dc4a31cb13266d6a4d1b8054ed9bb08, on @user_script:118.");
    expect(classifyRedisError(err)).toMatchObject({ reason: 'oom', detail: "OOM command not allowed when used memory > 'maxmemory'." });
  });

  it('names timeouts and lost connections, and leaves everything else (bugs) alone', () => {
    expect(classifyRedisError(new Error('Command timed out'))).toMatchObject({ reason: 'timeout', level: 'warn' });
    expect(classifyRedisError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }))).toMatchObject({ reason: 'unreachable' });
    expect(classifyRedisError(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toMatchObject({ reason: 'unreachable' });
    expect(classifyRedisError(new Error('Connection is closed.'))).toMatchObject({ reason: 'unreachable' });
    expect(classifyRedisError(replyError('ERR user_script:3: attempt to index a nil value'))).toBeNull();
    expect(classifyRedisError(new TypeError('x is not a function'))).toBeNull();
    expect(classifyRedisError('OOM as a string')).toBeNull();
  });
});

describe('RedisProblemLog', () => {
  function capture() {
    const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
    const at = (level: string) => (obj: object, msg: string) => lines.push({ level, obj: obj as Record<string, unknown>, msg });
    return { logger: { error: at('error'), warn: at('warn'), info: at('info') }, lines };
  }

  it('logs the first of a run of the same problem, names the cause and the hint, and one line when it is over', () => {
    const { logger, lines } = capture();
    const log = new RedisProblemLog(logger, { what: 'frame bus', hints: { auth: 'check the agent key' } });
    for (let i = 0; i < 50; i++) log.report(replyError('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(lines).toEqual([{ level: 'error', obj: expect.objectContaining({ reason: 'auth', code: 'WRONGPASS' }), msg: 'Redis refused authentication (WRONGPASS): check the agent key' }]);
    log.report(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    expect(lines.at(-1)).toMatchObject({ level: 'warn', msg: 'cannot reach Redis' });
    log.clear();
    // The recovery line is for what needed an operator, with how many failures it covered.
    expect(lines.at(-1)).toMatchObject({ level: 'info', obj: { reason: 'auth', failures: 50 } });
    expect(lines).toHaveLength(3);
    log.report(replyError('WRONGPASS invalid username-password pair or user is disabled.'));
    expect(lines).toHaveLength(4);
  });

  it('starts a new episode after the quiet time without a report', () => {
    const { logger, lines } = capture();
    const log = new RedisProblemLog(logger, { what: 'registry store', quietMs: 0 });
    log.report(replyError("OOM command not allowed when used memory > 'maxmemory'."));
    log.report(replyError("OOM command not allowed when used memory > 'maxmemory'."));
    expect(lines.filter((l) => l.obj.reason === 'oom')).toHaveLength(2);
  });
});
