/**
 * The media plane's public API, for the engine and the composition root.
 * See docs/media.md.
 */
export { MediaService, type MediaServiceOptions, type MediaServiceEvents } from './media-service.js';
export { CallMedia, MAX_INLINE_PROMPT_BYTES } from './call-media.js';
export type { SdpOptions } from './sdp-params.js';
export { isWebRtcSdp, isWebSocketUri, peerOf, type MediaPeer } from './webrtc.js';
export { parseSdp, sameMedia, type SessionDescription, type SdpMedia } from './sdp.js';
export { SdpOriginKeeper } from './sdp-origin.js';
export { receivesAudio, sendsAudio, shapeForCaller, singleAudio, unusableAnswer, type StreamLayout } from './sdp-streams.js';
export { agentAnswerAfterPlaceholder, offerWithAnswerCodecFirst } from './placeholder-answer.js';
export type { RtpengineDtmf } from './rtpengine/rtpengine-notifications.js';
export type { MonitorOptions, MonitorSession } from './monitor/call-monitoring.js';
export type { WhisperOptions, WhisperResult } from './whisper.js';
export type { MonitorDestination } from './monitor/monitor-output.js';
export type { CallMonitorStats } from './monitor/call-monitor.js';
export { PromptLibrary, type PrerenderReport } from './prompts/prompt-library.js';
export { PromptRenderer, RENDERER_VERSION, type PromptSource, type RenderedPrompt } from './prompts/prompt-renderer.js';
export { findConfiguredPrompts, type ConfiguredPrompt, type PromptSpecValue } from './prompts/configured-prompts.js';
export { mediaConfigChecks, promptSpecCheck, mediaSettingsCheck } from './media-config-checks.js';
export { NgClient, type NgClientOptions, type NgClientStats } from './ng/ng-client.js';
export type * from './ng/ng-types.js';
export { EmbeddedRtpengine } from './rtpengine/embedded-rtpengine.js';
export * from './media-errors.js';
