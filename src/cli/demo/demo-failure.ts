/** Why the demo failed (exit 1): the cluster did not do what the demo shows it doing. */
export class DemoFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DemoFailure";
  }
}
