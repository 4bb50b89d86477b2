"""The run folder: write it atomically, read it back (validated), export it.

``_store`` writes and reads run folders, ``_export`` turns one into budget tables (csv, json,
xlsx), ``_compare_store`` writes a compare run, ``_format`` is the one number formatter.
"""

from mcroi.runs._compare_store import compare_dataset as compare_dataset
from mcroi.runs._compare_store import compare_run_dir as compare_run_dir
from mcroi.runs._compare_store import compare_summary_csv as compare_summary_csv
from mcroi.runs._compare_store import write_compare as write_compare
from mcroi.runs._export import ASSUMPTION_COLUMNS as ASSUMPTION_COLUMNS
from mcroi.runs._export import COLUMNS as COLUMNS
from mcroi.runs._export import EXPORT_FORMATS as EXPORT_FORMATS
from mcroi.runs._export import FORMATS as FORMATS
from mcroi.runs._export import LINE_ITEMS as LINE_ITEMS
from mcroi.runs._export import SCHEMA_VERSION as SCHEMA_VERSION
from mcroi.runs._export import ExportFormat as ExportFormat
from mcroi.runs._export import annual_table as annual_table
from mcroi.runs._export import export as export
from mcroi.runs._export import parse_percentiles as parse_percentiles
from mcroi.runs._export import stat_name as stat_name
from mcroi.runs._export import tables as tables
from mcroi.runs._format import csv_number as csv_number
from mcroi.runs._format import finite as finite
from mcroi.runs._format import format_value as format_value
from mcroi.runs._format import market_check_lines as market_check_lines
from mcroi.runs._format import money as money
from mcroi.runs._format import months as months
from mcroi.runs._format import multiple as multiple
from mcroi.runs._format import number as number
from mcroi.runs._format import pct as pct
from mcroi.runs._format import per_mtok as per_mtok
from mcroi.runs._format import probability_text as probability_text
from mcroi.runs._format import quantity as quantity
from mcroi.runs._format import usd_small as usd_small
from mcroi.runs._read import RunFolder as RunFolder
from mcroi.runs._read import RunFolderError as RunFolderError
from mcroi.runs._read import open_run as open_run
from mcroi.runs._read import read_run as read_run
from mcroi.runs._read import set_recompute_progress as set_recompute_progress
from mcroi.runs._store import RUN_FILES as RUN_FILES
from mcroi.runs._store import STORED_OUTPUTS as STORED_OUTPUTS
from mcroi.runs._store import RunExistsError as RunExistsError
from mcroi.runs._store import RunWriteError as RunWriteError
from mcroi.runs._store import check_destination as check_destination
from mcroi.runs._store import check_space as check_space
from mcroi.runs._store import clean_leftovers as clean_leftovers
from mcroi.runs._store import compact as compact
from mcroi.runs._store import draw_digest as draw_digest
from mcroi.runs._store import dumps as dumps
from mcroi.runs._store import file_hashes as file_hashes
from mcroi.runs._store import is_run_folder as is_run_folder
from mcroi.runs._store import made_on as made_on
from mcroi.runs._store import prepare as prepare
from mcroi.runs._store import record_file as record_file
from mcroi.runs._store import sha256_file as sha256_file
from mcroi.runs._store import stored_bytes as stored_bytes
from mcroi.runs._store import summary_csv as summary_csv
from mcroi.runs._store import to_dataset as to_dataset
from mcroi.runs._store import write_run as write_run

__all__ = [
    "ASSUMPTION_COLUMNS",
    "COLUMNS",
    "EXPORT_FORMATS",
    "ExportFormat",
    "FORMATS",
    "LINE_ITEMS",
    "RUN_FILES",
    "STORED_OUTPUTS",
    "RunExistsError",
    "RunWriteError",
    "check_space",
    "RunFolder",
    "RunFolderError",
    "SCHEMA_VERSION",
    "annual_table",
    "check_destination",
    "clean_leftovers",
    "compact",
    "draw_digest",
    "compare_dataset",
    "compare_run_dir",
    "compare_summary_csv",
    "csv_number",
    "dumps",
    "export",
    "file_hashes",
    "finite",
    "format_value",
    "is_run_folder",
    "made_on",
    "market_check_lines",
    "money",
    "months",
    "multiple",
    "number",
    "open_run",
    "parse_percentiles",
    "pct",
    "per_mtok",
    "prepare",
    "probability_text",
    "quantity",
    "usd_small",
    "read_run",
    "set_recompute_progress",
    "record_file",
    "sha256_file",
    "stat_name",
    "stored_bytes",
    "summary_csv",
    "tables",
    "to_dataset",
    "write_compare",
    "write_run",
]
