export async function main(a: string[]): Promise<number> { return 0; }
