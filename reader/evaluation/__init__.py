"""`reader eval`: speech quality, latency and cost measured on your own material.

    reader eval dictation DIR     recordings + transcripts: WER/CER per engine, clean and in noise
    reader eval voices [TEXTS]    each voice reads sentences; round trip through Whisper, RTF, ...
    reader eval latency URL       time to first audio and dictation turnaround of a running server
    reader eval cost              what the synthesis and transcription cost, and what the cache saved
    reader eval report            the HTML and JSON report from the results so far

Results are appended to JSON-lines files in the output folder (default artifacts/eval), one
line per measurement, so an interrupted run resumes where it stopped; every subcommand
writes the report again at its end.
"""
