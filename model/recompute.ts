import * as tf from '@tensorflow/tfjs';

/**
 * Gradient checkpointing: `f(inputs, consts)` runs forward without recording its intermediates (tfjs keeps no
 * tape inside a custom-gradient op), and the backward pass runs `f` again under its own tape and differentiates
 * that. Between forward and backward only `inputs` and `consts` stay alive. `inputs` get gradients; `consts`
 * (masks, rotary tables, targets) are kept but not differentiated; `sink`'s tensors (after `inputs` in f's first
 * argument) are differentiated, but their gradients go to the sink, not to the tape.
 */
export function recompute(f: (inputs: tf.Tensor[], consts: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], consts: tf.Tensor[], sink?: SunkInputs): tf.Tensor {
  const sunk = sink?.tensors ?? [];
  const op = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const xs = args as tf.Tensor[];
    // saving clones (shared buffers): the originals may be intermediates that the forward tidy disposes
    save([...xs, ...consts]);
    return {
      value: f([...xs, ...sunk], consts),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sx = saved.slice(0, xs.length), sc = saved.slice(xs.length);
        const grads = withOwnTape(() => tf.grads((...ys: tf.Tensor[]) => f(ys, sc))([...sx, ...sunk], dy));
        sunk.forEach((t, i) => sink!.into.add(t, grads[xs.length + i]));
        return grads.slice(0, xs.length);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (op as unknown as (...xs: tf.Tensor[]) => tf.Tensor)(...inputs);
}

/** Where a backward pass hands gradients it does not pass on: `add` takes the tensor and its gradient (tidied after). */
export interface GradientSink { add(tensor: tf.Tensor, grad: tf.Tensor): void }

/**
 * Inputs of a recomputed op (weights: tf.Variables) whose gradients go to `into` as the backward pass reaches the op
 * instead of through the tape, which would hold every layer's until the whole backward ends.
 */
export interface SunkInputs { tensors: tf.Tensor[]; into: GradientSink }

/**
 * Runs a gradient computation inside another one's backward pass. tfjs' engine has one active tape and drops it
 * (sets it to null) when an outermost gradient finishes, which the enclosing backward pass still needs
 * afterwards; so the enclosing tape is put back. No public API covers nested gradients in backward.
 */
function withOwnTape<T>(f: () => T): T {
  const state = (tf.engine() as unknown as { state: { activeTape: unknown; gradientDepth: number } }).state;
  const { activeTape, gradientDepth } = state;
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.activeTape = activeTape;
    state.gradientDepth = gradientDepth;
  }
}
