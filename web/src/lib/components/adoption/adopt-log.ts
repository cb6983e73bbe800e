// What an ADOPT job's log says it did, sorted for the page: the items it tagged in place, the
// look-alikes it would not pick, what it left alone, and what a deploy would still change.
// Log lines are "<ISO time> <text>" (services/adoption/device-adoption.ts writes the texts).
export interface AdoptLog {
  adopted: string[];
  ambiguous: string[];
  leftAlone: string[];
  deployWould: string[];
}

export function readAdoptLog(log: string): AdoptLog {
  const out: AdoptLog = { adopted: [], ambiguous: [], leftAlone: [], deployWould: [] };
  for (const line of log.split('\n')) {
    const text = line.replace(/^\S+ /, '');
    let match: RegExpExecArray | null;
    if ((match = /^adopted: (.*)$/.exec(text))) out.adopted.push(match[1]!);
    else if ((match = /^not adopted, ambiguous: (.*)$/.exec(text))) out.ambiguous.push(match[1]!);
    else if ((match = /^left alone(?: \(not Meshplane's\))?: (.*)$/.exec(text))) out.leftAlone.push(match[1]!);
    else if ((match = /^a deploy would (.*)$/.exec(text))) out.deployWould.push(match[1]!);
  }
  return out;
}
