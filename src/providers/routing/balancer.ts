// Chooses among the providers of one model: the fewest requests in flight for its weight, and among
// equals the smooth weighted round-robin (nginx's), so idle providers share sequential traffic in
// proportion to their weights (3:1 gives A A B A, A A B A, …) rather than the heaviest taking it all.

export interface Member {
  name: string;
  weight: number;
  inFlight: number;
}

export class Balancer {
  /** Smooth round-robin credit per member name; kept between picks. */
  private readonly credit = new Map<string, number>();

  pick<M extends Member>(members: M[]): M | undefined {
    if (members.length <= 1) return members[0];
    const load = (m: M) => m.inFlight / m.weight;
    const least = Math.min(...members.map(load));
    const total = members.reduce((sum, m) => sum + m.weight, 0);
    let best: M | undefined;
    for (const member of members) {
      const credit = (this.credit.get(member.name) ?? 0) + member.weight;
      this.credit.set(member.name, credit);
      if (load(member) === least && (best === undefined || credit > this.credit.get(best.name)!)) best = member;
    }
    this.credit.set(best!.name, this.credit.get(best!.name)! - total);
    return best;
  }
}
