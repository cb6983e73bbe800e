// Config arrays as pfSense keeps them. Most models live in an indexed list whose ids are
// the positions: a delete splices and every later id shifts down. Interfaces are keyed
// by stable string ids (wan, lan, optN).
export type Obj = Record<string, unknown>;
export type Id = number | string;

export interface Store {
  readonly idType: 'index' | 'string';
  entries(): Array<[Id, Obj]>;
  get(id: unknown): Obj | undefined;
  add(obj: Obj, placement?: number | null): Id;
  set(id: Id, obj: Obj): void;
  remove(id: Id): void;
  replaceAll(objects: Obj[]): void;
}

export class ListStore implements Store {
  readonly idType = 'index' as const;
  private items: Obj[] = [];

  entries(): Array<[Id, Obj]> {
    return this.items.map((item, index) => [index, item]);
  }

  get(id: unknown): Obj | undefined {
    return typeof id === 'number' && Number.isInteger(id) ? this.items[id] : undefined;
  }

  add(obj: Obj, placement: number | null = null): Id {
    if (placement === null || placement >= this.items.length) {
      this.items.push(obj);
      return this.items.length - 1;
    }
    const at = Math.max(0, placement);
    this.items.splice(at, 0, obj);
    return at;
  }

  set(id: Id, obj: Obj): void {
    this.items[id as number] = obj;
  }

  remove(id: Id): void {
    this.items.splice(id as number, 1);
  }

  replaceAll(objects: Obj[]): void {
    this.items = [...objects];
  }
}

export class KeyedStore implements Store {
  readonly idType = 'string' as const;
  private readonly items = new Map<string, Obj>();

  constructor(private readonly allocate: (taken: ReadonlySet<string>) => string) {}

  entries(): Array<[Id, Obj]> {
    return [...this.items.entries()];
  }

  get(id: unknown): Obj | undefined {
    return typeof id === 'string' ? this.items.get(id) : undefined;
  }

  add(obj: Obj): Id {
    const id = this.allocate(new Set(this.items.keys()));
    this.items.set(id, obj);
    return id;
  }

  /** Seeds an object under a fixed id (wan, lan). */
  put(id: string, obj: Obj): void {
    this.items.set(id, obj);
  }

  set(id: Id, obj: Obj): void {
    this.items.set(id as string, obj);
  }

  remove(id: Id): void {
    this.items.delete(id as string);
  }

  replaceAll(objects: Obj[]): void {
    this.items.clear();
    for (const obj of objects) this.add(obj);
  }
}
