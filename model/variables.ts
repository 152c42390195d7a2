import * as tf from '@tensorflow/tfjs';

/**
 * A variable that owns its initial value. `tf.variable(t)` shares t's data and adds a reference to it, so disposing
 * only the variable leaves t (and its memory) alive: every model load and optimizer restore leaked its weights
 * (0.5 GB per SmolLM2 load, 1 GB per PPO optimizer restore) until the model worker ran out of memory.
 */
export function ownedVariable(init: tf.Tensor, trainable: boolean): tf.Variable {
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}
