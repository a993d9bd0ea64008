//! The console's base-database import: CSV (UTF-8 or GB18030) and .xlsx
//! files as a clerk uploads them, read into rows and checked row by row.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};

use county_platform::console::import::{check_rows, parse_date, read_csv, read_xlsx, Cell};
use kiosk_core::id_number::check_digit;

use super::today;
use crate::mutate::{havoc, words_of, Rng};
use crate::Target;

fn id(first17: &[u8; 17]) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(first17),
        check_digit(first17)
    )
}

const HEADER: [&str; 11] = [
    "姓名",
    "公民身份号码",
    "性别",
    "民族",
    "出生日期（年月日）",
    "户籍地址",
    "现住址",
    "联系电话",
    "人员类别*",
    "乡镇",
    "乡镇代码",
];

fn rows() -> Vec<Vec<String>> {
    vec![
        HEADER.iter().map(|s| s.to_string()).collect(),
        vec![
            "林国华".into(),
            id(b"35052419550315001"),
            "男".into(),
            "汉族".into(),
            "1955-03-15".into(),
            "福建省安溪县凤城镇东岳社区城东路12号".into(),
            "".into(),
            "13905951234".into(),
            "伤残军人,退役士兵".into(),
            "凤城镇".into(),
            "350524100".into(),
        ],
        vec![
            "王秀英".into(),
            id(b"35052419480101002"),
            "女".into(),
            "01".into(),
            "1948年1月1日".into(),
            "福建省安溪县城厢镇".into(),
            "同上".into(),
            "".into(),
            "烈士遗属".into(),
            "城厢镇".into(),
            "".into(),
        ],
        vec![
            "阿不都·买买提".into(),
            id(b"65010119500307003"),
            "".into(),
            "维吾尔族".into(),
            "19500307".into(),
            "".into(),
            "".into(),
            "0595-23456789".into(),
            "2".into(),
            "".into(),
            "350524101".into(),
        ],
    ]
}

fn townships() -> HashMap<String, String> {
    [("凤城镇", "350524100"), ("城厢镇", "350524101")]
        .into_iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect()
}

fn check(table: &[Vec<Cell>], townships: &HashMap<String, String>) {
    for row in table.iter().take(50) {
        for cell in row.iter().take(20) {
            let _ = parse_date(cell);
        }
    }
    let _ = check_rows(table, townships, today());
}

pub struct ImportCsv {
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    townships: HashMap<String, String>,
}

impl ImportCsv {
    pub(crate) fn new() -> ImportCsv {
        let csv: String = rows()
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        if c.contains(',') {
                            format!("\"{c}\"")
                        } else {
                            c.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        let (gbk, _, _) = encoding_rs::GB18030.encode(&csv);
        let seeds = vec![
            csv.clone().into_bytes(),
            [b"\xEF\xBB\xBF".as_slice(), csv.as_bytes()].concat(),
            gbk.into_owned(),
        ];
        let mut dict = words_of(&csv);
        for t in [
            "\"", "\"\"", ",", "\r\n", "\n", "\u{feff}", "长期", "19000101", "2958466",
        ] {
            dict.push(t.as_bytes().to_vec());
        }
        ImportCsv {
            seeds,
            dict,
            townships: townships(),
        }
    }
}

impl Target for ImportCsv {
    fn name(&self) -> &'static str {
        "import_csv"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
        havoc(rng, &base, &self.seeds, &self.dict, 256 * 1024)
    }

    fn run(&self, input: &[u8]) {
        if let Ok(table) = read_csv(input) {
            check(&table, &self.townships);
        }
    }
}

/// An .xlsx file taken apart: (entry name, bytes) in order.
type Entries = Vec<(String, Vec<u8>)>;

fn unzip(bytes: &[u8]) -> Option<Entries> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).ok()?;
        let mut data = Vec::new();
        file.read_to_end(&mut data).ok()?;
        entries.push((file.name().to_string(), data));
    }
    Some(entries)
}

fn zip_entries(entries: &Entries) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        if writer.start_file(name.as_str(), options).is_err() || writer.write_all(data).is_err() {
            return Vec::new();
        }
    }
    writer.finish().map(Cursor::into_inner).unwrap_or_default()
}

fn workbook(dates_as_cells: bool) -> Option<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows().iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if dates_as_cells && c == 4 && r == 1 {
                let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1955, 3, 15).ok()?;
                sheet
                    .write_datetime_with_format(r, c, &date, &date_format)
                    .ok()?;
            } else if dates_as_cells && c == 4 && r == 3 {
                sheet.write_number(r, c, 19500307.0).ok()?;
            } else if dates_as_cells && c == 1 && r == 2 {
                sheet.write_number(r, c, 350524194801010020.0).ok()?;
            } else {
                sheet.write_string(r, c, cell).ok()?;
            }
        }
    }
    sheet.write_boolean(5, 0, true).ok()?;
    book.save_to_buffer().ok()
}

pub struct ImportXlsx {
    seeds: Vec<Vec<u8>>,
    unzipped: Vec<Entries>,
    dict: Vec<Vec<u8>>,
    townships: HashMap<String, String>,
}

impl ImportXlsx {
    pub(crate) fn new() -> ImportXlsx {
        let seeds: Vec<Vec<u8>> = [workbook(false), workbook(true)]
            .into_iter()
            .flatten()
            .collect();
        let unzipped: Vec<Entries> = seeds.iter().filter_map(|s| unzip(s)).collect();
        let mut dict: Vec<Vec<u8>> = Vec::new();
        for entries in &unzipped {
            for (_, data) in entries {
                dict.extend(words_of(&String::from_utf8_lossy(data)));
            }
        }
        for t in [
            "<c r=\"A1\" t=\"s\"><v>0</v></c>",
            "<c r=\"XFD1048576\"><v>1</v></c>",
            "<row r=\"1048576\">",
            "<dimension ref=\"A1:XFD1048576\"/>",
            " t=\"d\"",
            " t=\"e\"",
            " t=\"b\"",
            " t=\"str\"",
            " t=\"inlineStr\"",
            "<is><t>x</t></is>",
            "<f>1+1</f>",
            "&amp;",
            "&#0;",
            "&#x10FFFF;",
            "<![CDATA[",
            "<v>-1</v>",
            "<v>1e308</v>",
            "<v>NaN</v>",
            "s=\"1\"",
            "numFmtId=\"14\"",
            "r=\"A0\"",
            "r=\"\"",
        ] {
            dict.push(t.as_bytes().to_vec());
        }
        ImportXlsx {
            seeds,
            unzipped,
            dict,
            townships: townships(),
        }
    }
}

impl Target for ImportXlsx {
    fn name(&self) -> &'static str {
        "import_xlsx"
    }

    fn seeds(&self) -> &[Vec<u8>] {
        &self.seeds
    }

    fn generate(&self, rng: &mut Rng) -> Vec<u8> {
        match rng.pick(&self.unzipped) {
            // Mostly: edit the sheet's XML, the shared strings or the
            // styles inside a well-formed zip.
            Some(entries) if rng.percent(85) => {
                let mut entries = entries.clone();
                let rounds = 1 + rng.below(3);
                for _ in 0..rounds {
                    let xml: Vec<usize> = (0..entries.len())
                        .filter(|&i| {
                            let name = &entries[i].0;
                            name.contains("sheet1")
                                || name.contains("sharedStrings")
                                || name.contains("styles")
                                || name.contains("workbook")
                                || rng.percent(10)
                        })
                        .collect();
                    if let Some(&i) = rng.pick(&xml) {
                        let others: Vec<Vec<u8>> = Vec::new();
                        entries[i].1 = havoc(rng, &entries[i].1, &others, &self.dict, 1 << 20);
                    }
                }
                if rng.percent(5) && !entries.is_empty() {
                    let i = rng.below(entries.len());
                    entries.remove(i);
                }
                zip_entries(&entries)
            }
            _ => {
                let base = rng.pick(&self.seeds).cloned().unwrap_or_default();
                havoc(rng, &base, &self.seeds, &self.dict, 1 << 20)
            }
        }
    }

    fn run(&self, input: &[u8]) {
        if let Ok(table) = read_xlsx(input) {
            check(&table, &self.townships);
        }
    }
}
