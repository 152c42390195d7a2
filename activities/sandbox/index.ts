export { cleanupSandboxes, HOST_LABEL, reclaimHostContainers } from './cleanup';
export { DockerUnreachableError } from './docker-client';
export { DEFAULT_LIMITS, type ExecResult, SandboxLimits } from './sandbox-config';
export { Sandbox } from './sandbox';
