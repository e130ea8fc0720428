// Where site.ts makes the applications' databases among the stacks. The
// databases play runs inside the PostgreSQL task, which is a service of one
// of the stacks (the gateway stack in the operators' inventory), so it can
// only come after that stack; a stack listed after it may need a database
// (LangGraph's agent, whose healthcheck passes only once its database
// exists: a first run would replace its task until the stack gave up). So
// the stacks are deployed in two parts, in list order (as Ansible runs a
// list, and as the registry check in order.ts expects): up to and including
// the stack that runs PostgreSQL, then the databases, then the rest.

/** The stacks deployed before the databases and those after; undefined when there is nothing to split (no database server among the stacks, or it is the last). */
export function stacksAroundDatabases(stacks: readonly { name: string }[], servers: readonly string[]): { first: string[]; after: string[] } | undefined {
  // A service is STACK_SERVICE; a stack's name may itself hold '_', so the longest stack name that prefixes a server's is its stack.
  const owner = (service: string) =>
    stacks
      .map((s, index) => ({ index, name: s.name }))
      .filter((s) => service.startsWith(`${s.name}_`))
      .sort((a, b) => b.name.length - a.name.length)[0]?.index;
  const at = servers.map(owner).filter((i): i is number => i !== undefined);
  if (at.length === 0) return undefined;
  const last = Math.max(...at);
  if (last === stacks.length - 1) return undefined;
  return { first: stacks.slice(0, last + 1).map((s) => s.name), after: stacks.slice(last + 1).map((s) => s.name) };
}
