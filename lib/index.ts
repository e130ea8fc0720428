// The public API: re-exports only.
export { sh, raw, Command } from './shell/command.ts';
export { quote, quoteBytes } from './shell/quote.ts';
export { Secret, secret, redact } from './shell/secret.ts';
export { encryptValue, decryptValue } from './shell/vault.ts';
export { defineOp, absolutePath, fileMode, OpFailure } from './model/op.ts';
export type { Op, Decision, Probe, Remote, OpStatus } from './model/op.ts';
export { defineFact } from './model/fact.ts';
export type { Fact } from './model/fact.ts';
export type { HostContext } from './model/host-context.ts';
export type { TaskRef } from './model/task-ref.ts';
export { task, handler, block, builders, Task, Handler, Block } from './model/task.ts';
export type { TaskOptions, BlockOptions, Item } from './model/task.ts';
export { flushHandlers } from './model/flush.ts';
export { defineRole, Role } from './model/role.ts';
export { definePlay, Play } from './model/play.ts';
export type { PlayOptions, Serial } from './model/play.ts';
export { runPlaybook, runPlaybookForExitCode } from './cli/main.ts';
export { defineInventory } from './inventory/ts-inventory.ts';
export { ExitCode, InputError, WithheldResultError } from './shell/errors.ts';
export { z } from './shell/zod.ts';
export * as ops from './public-ops.ts';
export * as facts from './facts/index.ts';
export * as strategies from './strategies/index.ts';
// Types that the functions above take or return, exported so a project can
// name them (and so the API reference links to them instead of leaving holes).
export type { SourceLocation } from './shell/location.ts';
export type { ShellFunction, Raw, Interpolation } from './shell/command.ts';
export type { StdinPart, FileStdin, StreamStdin } from './shell/stdin-source.ts';
export type { ExecResult } from './transport/types.ts';
export type { VarsSchema, RoleDefinition, RoleContent } from './model/role.ts';
export type { ParamProblem, OpDefinition } from './model/op.ts';
export type { WaitKind, RunProfile, HostProfile, PlayProfile } from './model/profile.ts';
export type { PathRead } from './model/path-read.ts';
export type { Builders } from './model/task.ts';
export type { DefinedInventory, InventorySpec, InventoryGroupSpec } from './inventory/ts-inventory.ts';
export type { Diff } from './shell/diff.ts';
export type { PlaysArg, PlaybookOptions, PlaybookContext, OutcomeRow } from './cli/main.ts';
export type { TaskOutcome } from './runner/task-runner.ts';
export type { Inventory } from './inventory/inventory.ts';
export type { CliOptions, PlaybookFlag } from './cli/args.ts';
export type { RunEvent, HostStatus, RecapCounts, PlanAction, PlanRefusal, ResumedHost, RunRecordRef } from './model/events.ts';
export type { GroupDef, HostDef, VarLayer, VarValue } from './inventory/model.ts';
export type { HostKeyMode } from './transport/known-hosts.ts';
// ops.defineTemplate returns it and a project's templates are typed with it.
export type { Template } from './ops/files/edit-ops.ts';
