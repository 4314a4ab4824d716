/** What a scanner found on one line, for the accumulator to act on. */

export const TYPE_NONE = 0;
export const TYPE_EXPOSURE = 1;
export const TYPE_METRIC = 2;
export const TYPE_OTHER = 3;

export const EXPOSURE = Buffer.from('exposure');
export const METRIC = Buffer.from('metric');

/** The columns of a row, as [start, end) byte offsets into the current buffer (-1 = absent). */
export class Fields {
  typeA = -1;
  typeB = -1;
  expA = -1;
  expB = -1;
  unitA = -1;
  unitB = -1;
  /** FNV-1a hash of the unit bytes (computed while scanning them). */
  unitHash = 0;
  variantA = -1;
  variantB = -1;
  metricA = -1;
  metricB = -1;
  ts = NaN;
  tsPresent = false;
  value = 1;
  valueBad = false;
  /** Set by the JSON scanner when it recognised the type name or a requested metric in place. */
  typeCode = TYPE_NONE;
  metricIndex = -1;
  /** Set by the CSV scanner: how many fields the line has. */
  fieldCount = 0;
  reset(): void {
    this.typeCode = TYPE_NONE;
    this.metricIndex = -1;
    this.typeA = this.typeB = this.expA = this.expB = this.unitA = this.unitB = -1;
    this.variantA = this.variantB = this.metricA = this.metricB = -1;
    this.unitHash = 0;
    this.ts = NaN;
    this.tsPresent = false;
    this.value = 1;
    this.valueBad = false;
  }
}
