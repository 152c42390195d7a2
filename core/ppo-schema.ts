import { z } from 'zod';
import { ArtifactRef } from './artifact-ref';
import { DEFAULT_POLICY_DECODING, Decoding, EpisodeLimits, RewardScale } from './episode-schema';

/**
 * `ppo` workflow input: ML-Agent's step-wise PPO. Each iteration samples B states from the expert states pool,
 * lets the policy act n times from each, runs every action once from the restored state, rewards it with the
 * reward module and takes PPO steps on the batch. Defaults suit the CPU default model (SmolLM2-135M after SFT)
 * on 2 cores: an iteration of 4 states × 2 actions takes 3–6 min (mean 4.1 over a 20-iteration run), 1–2 generating,
 * 2–3 in the update, seconds in the sandboxes (their restores overlap generation).
 */
export const PpoInput = z
  .object({
    /** `statesPool` ref of a `collectTrajectories` result. */
    statesPool: ArtifactRef,
    /** Policy to start from (the SFT checkpoint); it stays the KL reference for the whole run. */
    checkpoint: ArtifactRef,
    iterations: z.number().int().min(1).max(10_000).default(20),
    /**
     * 'stepwise' (ML-Agent): every sampled pool state gets n actions, each executed once. 'episodic', the baseline
     * it is measured against (`mlagent bench stepwise`): B whole episodes per iteration from the tasks' initial
     * states (pool states of step 0), each step rewarded, all steps in one update; n does not apply.
     */
    mode: z.enum(['stepwise', 'episodic']).default('stepwise'),
    /** Episodic mode: steps an episode takes unless it gives its Final Answer first (the paper's limit). */
    maxSteps: z.number().int().min(1).max(50).default(15),
    /** Episodic mode: an episode's time limit, as an episode's (`limits.maxMinutes`); the step in flight then ends unrewarded. */
    maxMinutes: EpisodeLimits.shape.maxMinutes,
    /** B: states (episodic: episodes) per iteration, spread evenly over the pool's tasks. */
    statesPerIteration: z.number().int().min(1).max(256).default(4),
    /** n: actions sampled per state (each executed once). */
    actionsPerState: z.number().int().min(1).max(16).default(2),
    /**
     * PPO epochs over each iteration's batch. 1, as verl's default: with 2 minibatches the second step is already
     * off-policy, and on 2 cores each further epoch costs as much as the rest of the update (stop 17: 2 epochs, 4.0
     * of an iteration's 5.8 min in the update).
     */
    epochs: z.number().int().min(1).max(20).default(1),
    /** Samples (actions) per gradient step. */
    minibatchSize: z.number().int().min(1).max(256).default(4),
    /** A tenth of SFT's peak: small policy steps keep it near the SFT policy it starts from. */
    lrActor: z.number().positive().default(3e-5),
    /** The critic is a fresh linear value head (the trunk is the actor's): it has to catch up in a few steps. */
    lrCritic: z.number().positive().default(1e-3),
    clipEps: z.number().positive().max(1).default(0.2),
    /** Half-width of the value clip around the old value (rewards lie in [0, 1]). */
    valueClipEps: z.number().positive().default(0.2),
    /** β of the per-token KL penalty to the reference (k1 in the reward, see core/ppo.ts). */
    klCoef: z.number().nonnegative().default(0.001),
    /** Entropy bonus; 0 = entropy only reported. */
    entropyCoef: z.number().nonnegative().default(0),
    gamma: z.number().min(0).max(1).default(1),
    lambda: z.number().min(0).max(1).default(0.95),
    clipNorm: z.number().positive().default(1),
    weightDecay: z.number().nonnegative().default(0),
    maxNewTokens: z.number().int().positive().max(2048).default(256),
    /** 1 samples from the policy itself, which the PPO ratio assumes (old log-probs are at temperature 1). */
    temperature: z.number().positive().default(1),
    /**
     * Rollouts decode as the policy agent does in episodes ('constrained': always a valid action). The PPO update
     * scores the sampled tokens under the unmasked policy, so with 'constrained' the ratio is of unmasked
     * probabilities of tokens drawn from the masked one (see model/constrained-decoding.ts).
     */
    decoding: Decoding.default(DEFAULT_POLICY_DECODING),
    seed: z.number().int().nonnegative().default(0),
    /** Iterations per workflow run before continue-as-new (keeps the history small). */
    continueAsNewEvery: z.number().int().min(1).default(5),
    /** Actions executing at once on the sandbox queue. */
    concurrency: z.number().int().min(1).max(64).default(2),
    /** Per script run; the task's own timeout when absent. */
    scriptTimeoutSec: z.number().int().positive().optional(),
    observationChars: z.number().int().min(200).default(4000),
    /** An action its container's host has not started within this long is re-executed, from the state, on another host. */
    hostLostAfterSec: z.number().int().min(5).default(300),
    /**
     * Heartbeat timeout of the model activities: how quickly a dead model worker is noticed. They heartbeat between
     * forward/backward passes, about 30 s each for the 135M default on 2 quiet cores; 120 s timed out under load.
     */
    heartbeatTimeoutSeconds: z.number().int().min(1).default(300),
    /** A model activity (rollout, update) no model worker has picked up within this long fails the run (no worker is running). */
    modelWorkerLostAfterSec: z.number().int().min(1).default(300),
    /** m_init/m_best per task fixed by the parent run (the pipeline passes its collection's); read at the start when absent. */
    rewardScales: z.record(z.string(), RewardScale).optional(),
    /** Set by continue-as-new only: where the previous run stopped. */
    resume: z
      .object({
        iteration: z.number().int().nonnegative(),
        policy: ArtifactRef,
        rewardScales: z.record(z.string(), RewardScale),
        /** JSONL of every finished iteration's metrics. */
        metricsLog: ArtifactRef,
      })
      .strict()
      .optional(),
  })
  .strict();
export type PpoInput = z.input<typeof PpoInput>;
export type PpoConfig = z.output<typeof PpoInput>;

/** Hyper-parameters of one update (what the model activity needs of the input). */
export const PpoUpdateHyper = PpoInput.pick({
  epochs: true, minibatchSize: true, lrActor: true, lrCritic: true, clipEps: true, valueClipEps: true, klCoef: true,
  entropyCoef: true, gamma: true, lambda: true, clipNorm: true, weightDecay: true, seed: true,
}).strip(); // so the whole PpoInput parses into it
export type PpoUpdateHyper = z.output<typeof PpoUpdateHyper>;

export const PpoUpdateMetrics = z.object({
  /** Mean k3 KL(π_old‖π) per token over the last epoch. */
  approxKl: z.number(),
  /** Mean k1 KL(π_old‖π_ref) per token (the penalised quantity). */
  refKl: z.number(),
  clipFraction: z.number(),
  policyLoss: z.number(),
  valueLoss: z.number(),
  entropy: z.number(),
  gradNormActor: z.number(),
  gradNormCritic: z.number(),
  steps: z.number().int(),
  tokens: z.number().int(),
});
export type PpoUpdateMetrics = z.infer<typeof PpoUpdateMetrics>;

export const PpoIterationMetrics = PpoUpdateMetrics.extend({
  iteration: z.number().int(),
  meanReward: z.number(),
  /** Sampled actions by reward-module outcome (invalid, error, non_edit, corner_case, edit). */
  kinds: z.record(z.string(), z.number().int()),
  /** Sampled actions no sandbox could execute, even after moving hosts: not rewarded, not trained on. */
  leftOut: z.number().int(),
  policy: ArtifactRef,
  /**
   * Wall time of the iteration's phases on the workflow's clock: `generate` the policy's rollout calls, `execute` the
   * rest of the rollout (sampling states, sandboxes, rewards; restores overlap generation), `update` the PPO update
   * call (loading, scoring, gradient steps, saving). Absent in iterations recorded before it was measured.
   */
  seconds: z.object({ generate: z.number(), execute: z.number(), update: z.number() }).optional(),
});
export type PpoIterationMetrics = z.infer<typeof PpoIterationMetrics>;

/** "generate / execute / update" seconds of an iteration, or a dash for one recorded before they were measured. */
export function phaseSeconds(m: PpoIterationMetrics): string {
  return m.seconds ? [m.seconds.generate, m.seconds.execute, m.seconds.update].map((s) => s.toFixed(0)).join(' / ') : '–';
}
