import { randomInt, randomUUID } from 'node:crypto';

// Same shape as MLflow's generated run names ("respected-ant-906").
const ADJECTIVES = [
  'agreeable', 'amazing', 'bold', 'brave', 'bright', 'calm', 'capable', 'casual', 'clean', 'clever',
  'colorful', 'crisp', 'curious', 'dapper', 'delicate', 'eager', 'gentle', 'glamorous', 'gregarious',
  'honorable', 'kindly', 'languid', 'likeable', 'lyrical', 'merciful', 'nimble', 'orderly', 'polite',
  'respected', 'rogue', 'salty', 'sassy', 'serious', 'shivering', 'silent', 'skillful', 'smiling',
  'stately', 'sincere', 'tasteful', 'thoughtful', 'traveling', 'unique', 'upbeat', 'valuable', 'wise',
];
const NOUNS = [
  'ant', 'ape', 'asp', 'auk', 'bass', 'bat', 'bear', 'bee', 'bird', 'boar', 'bug', 'calf', 'carp',
  'cat', 'colt', 'conch', 'cow', 'crab', 'crane', 'croc', 'crow', 'cub', 'deer', 'doe', 'dog',
  'dolphin', 'donkey', 'dove', 'duck', 'eel', 'elk', 'fawn', 'finch', 'fish', 'flea', 'fly', 'foal',
  'fowl', 'fox', 'frog', 'gnat', 'gnu', 'goat', 'goose', 'grouse', 'grub', 'gull', 'hare', 'hawk',
  'hen', 'hog', 'horse', 'hound', 'jay', 'kit', 'koi', 'lamb', 'lark', 'loon', 'lynx', 'mare',
  'midge', 'mink', 'mole', 'moose', 'moth', 'mouse', 'mule', 'newt', 'owl', 'ox', 'panda', 'perch',
  'pig', 'pug', 'ram', 'rat', 'ray', 'robin', 'roo', 'seal', 'shark', 'sheep', 'shrew', 'skink',
  'slug', 'smelt', 'snail', 'snake', 'snipe', 'sow', 'sponge', 'squid', 'stag', 'steed', 'stoat',
  'swan', 'tern', 'toad', 'trout', 'turtle', 'vole', 'wasp', 'whale', 'wolf', 'worm', 'wren', 'yak',
];

export function generateRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}

/** 32 lowercase hex characters, like MLflow's run ids (uuid4().hex). */
export function newRunId(): string {
  return randomUUID().replace(/-/g, '');
}

/** MLflow 3 logged-model ids: "m-" + 32 hex. */
export function newLoggedModelId(): string {
  return `m-${newRunId()}`;
}
