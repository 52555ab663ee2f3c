/* simulate.c - `docbus simulate`: the hcmc-2018q1 profile, JSON Lines whose aggregate
 * gives exactly the figures of the Q1/2018 report (docs/jsonl.md, "The hcmc-2018q1
 * profile"). Streaming: memory does not grow with --scale. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "error.h"
#include "quarter.h"
#include "units.h"

#define CMD "simulate"
#define PROFILE "hcmc-2018q1"
#define SCALE_MAX 100.0
#define ROUNDING_STEP 100      /* "more than N" in the seed: N <= value < N + 100 */
#define NQ 9                   /* 2016-Q1 .. 2018-Q1 */
#define RATING_UNITS 42

/* Codes the profile refers to by name (see schemas/units-hcmc.json). */
#define C_UBND "000.00.00.H29"
#define C_VP "000.00.01.H29"
#define C_SKHDT "000.00.04.H29"
#define C_STC "000.00.05.H29"
#define C_SVHTT "000.00.13.H29"
#define C_STTTT "000.00.11.H29"
#define C_SYT "000.00.16.H29"
#define C_Q1 "000.00.41.H29"
#define C_BDTP "000.00.91.H29"
#define C_QTSC "000.00.94.H29"
#define C_DSTP "000.00.98.H29"

/* ---- deterministic randomness: splitmix64 seeds xoshiro256** ---- */

typedef struct rng {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static inline double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- buffered output ---- */

typedef struct out {
    FILE *f;
    char buf[1 << 20];
    size_t n;
    uint64_t lines;
    int err;
} out_t;

static void out_flush(out_t *o)
{
    if (o->n && !o->err && fwrite(o->buf, 1, o->n, o->f) != o->n)
        o->err = errno ? errno : EIO;
    o->n = 0;
}

static inline void putn(out_t *o, const char *s, size_t n)
{
    if (o->n + n > sizeof o->buf)
        out_flush(o);
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

static inline void puts_(out_t *o, const char *s)
{
    putn(o, s, strlen(s));
}

static inline void putu(out_t *o, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    putn(o, tmp + i, (size_t)(24 - i));
}

/* Zero-padded to width digits. */
static inline void putu_w(out_t *o, uint64_t v, int width)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v || 24 - i < width);
    putn(o, tmp + i, (size_t)(24 - i));
}

static void end_line(out_t *o)
{
    putn(o, "}\n", 2);
    o->lines++;
}

/* ---- calendar ---- */

static int32_t day_of(const char *ymd)
{
    int32_t d = 0;
    char e[64];
    vn_date_parse(ymd, &d, e, sizeof e);
    return d;
}

static int32_t quarter_first_day(quarter_t q)
{
    return (int32_t)((quarter_start_ms(q) + VN_UTC_OFFSET_MS) / 86400000LL);
}

static const char *holidays[] = {
    "2016-01-01", "2016-02-08", "2016-02-09", "2016-02-10", "2016-02-11", "2016-02-12",
    "2016-04-18", "2016-05-02", "2016-05-03", "2016-09-02",
    "2017-01-02", "2017-01-26", "2017-01-27", "2017-01-30", "2017-01-31", "2017-02-01",
    "2017-04-06", "2017-05-01", "2017-05-02", "2017-09-04",
    "2018-01-01", "2018-02-14", "2018-02-15", "2018-02-16", "2018-02-19", "2018-02-20",
    "2018-04-25", "2018-04-30", "2018-05-01",
};

static int is_workday(int32_t day)
{
    int dow = (int)((day % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    if (dow == 0 || dow == 6)
        return 0;
    for (size_t i = 0; i < sizeof holidays / sizeof holidays[0]; i++)
        if (day_of(holidays[i]) == day)
            return 0;
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SS+07:00" for a day and seconds after local midnight. */
static void put_time(out_t *o, const char *ymd, int secs)
{
    putn(o, ymd, 10);
    putn(o, "T", 1);
    putu_w(o, (uint64_t)(secs / 3600), 2);
    putn(o, ":", 1);
    putu_w(o, (uint64_t)(secs / 60 % 60), 2);
    putn(o, ":", 1);
    putu_w(o, (uint64_t)(secs % 60), 2);
    putn(o, "+07:00", 6);
}

/* ---- the model's units ---- */

typedef struct sim_unit {
    const unit_t *u;
    char name[600];        /* JSON-escaped */
    const char *head, *deputy;        /* positions */
    char head_name[64], deputy_name[64];
    uint32_t weight_send, weight_recv;
    uint32_t next_no;      /* document numbers this year */
} sim_unit_t;

static const char *surnames[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Phan",
                                 "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"};
static const char *middles[] = {"Văn", "Thị", "Minh", "Thanh", "Ngọc", "Hoàng", "Quốc",
                                "Hữu", "Đức", "Thành", "Kim", "Xuân"};
static const char *givens[] = {"An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hòa", "Hùng",
                               "Hương", "Lan", "Long", "Mai", "Nam", "Phong", "Phúc", "Quân",
                               "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vinh", "Yến", "Khoa"};

static void json_escape(char *dst, size_t size, const char *s)
{
    size_t n = 0;
    for (; *s && n + 7 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char)ch;
        } else if (ch < 0x20) {
            n += (size_t)snprintf(dst + n, size - n, "\\u%04x", ch);
        } else {
            dst[n++] = (char)ch;
        }
    }
    dst[n] = '\0';
}

static void invent_name(char *buf, size_t size, rng_t *r)
{
    snprintf(buf, size, "%s %s %s", surnames[rng_below(r, sizeof surnames / sizeof *surnames)],
             middles[rng_below(r, sizeof middles / sizeof *middles)],
             givens[rng_below(r, sizeof givens / sizeof *givens)]);
}

/* ---- static texts (own wording; no quotes or backslashes, so no escaping) ---- */

static const char *topics[] = {
    "triển khai dịch vụ công trực tuyến mức độ 3, 4",
    "ứng dụng chữ ký số trong trao đổi văn bản điện tử",
    "bảo đảm an toàn thông tin mạng trong cơ quan nhà nước",
    "đẩy mạnh cải cách hành chính",
    "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "bảo đảm trật tự an toàn giao thông",
    "công tác chăm lo Tết Nguyên đán cho người lao động",
    "triển khai Đề án xây dựng Thành phố thông minh",
    "xây dựng kho dữ liệu dùng chung của Thành phố",
    "tiếp nhận hồ sơ, trả kết quả qua dịch vụ bưu chính công ích",
    "quản lý hạ tầng kỹ thuật viễn thông thụ động",
    "vận hành hệ thống đánh giá sự hài lòng của người dân",
    "thực hiện Nghị quyết số 54/2017/QH14 của Quốc hội",
    "kiện toàn tổ chức bộ máy và biên chế",
    "quyết toán ngân sách năm 2017",
    "giải quyết đơn thư khiếu nại, tố cáo",
    "phổ biến, giáo dục pháp luật",
    "bảo đảm vệ sinh an toàn thực phẩm",
    "phòng cháy, chữa cháy tại khu dân cư",
    "chỉnh trang đô thị và vỉa hè",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "phát triển doanh nghiệp khởi nghiệp đổi mới sáng tạo",
    "thu hồi các dự án chậm triển khai",
    "chống ngập nước và xử lý ô nhiễm môi trường",
    "công tác thi đua, khen thưởng",
    "báo cáo thống kê định kỳ",
    "tổ chức hội nghị truyền hình trực tuyến",
    "nâng cấp hệ thống thư điện tử công vụ",
};
#define NTOPICS (sizeof topics / sizeof topics[0])

static const char *services[] = {
    "Cấp giấy phép xây dựng", "Đăng ký hộ tịch", "Chứng thực bản sao",
    "Đăng ký kinh doanh hộ cá thể", "Cấp giấy chứng nhận quyền sử dụng đất",
    "Cấp phiếu lý lịch tư pháp", "Cấp giấy phép hoạt động y tế", "Đăng ký doanh nghiệp",
    "Cấp giấy phép lao động", "Thủ tục thuế và phí", "Cấp giấy phép quảng cáo",
};

typedef struct doctype {
    const char *sym;     /* DocumentType symbol */
    const char *prefix;  /* notation prefix before the unit abbreviation, "" for CONG_VAN */
    uint32_t weight;
    const char *subject;  /* printf format: the topic, then the year */
} doctype_t;

static const doctype_t doctypes[] = {
    {"CONG_VAN", "", 55, "Về việc %s"},
    {"GIAY_MOI", "GM", 12, "Mời họp về %s"},
    {"THONG_BAO", "TB", 8, "Thông báo ý kiến kết luận về %s"},
    {"BAO_CAO", "BC", 8, "Báo cáo kết quả %s năm %d"},
    {"KE_HOACH", "KH", 6, "Kế hoạch %s năm %d"},
    {"QUYET_DINH", "QĐ", 6, "Quyết định ban hành quy chế về %s"},
    {"TO_TRINH", "TTr", 3, "Tờ trình về %s"},
    {"CHI_THI", "CT", 1, "Chỉ thị về tăng cường %s"},
    {"OTHER", "HD", 1, "Hướng dẫn %s"},
};
#define NDOCTYPES (sizeof doctypes / sizeof doctypes[0])

static const char *offices_sttt[] = {"CNTT", "KHTH", "BCVT", "BC", "XBIPH", "VP", "TTra"};
static const char *offices_city[] = {"VX", "ĐT", "KT", "TH", "CNN"};
static const char *offices_other[] = {"VP", "TH", "KHTH", "TCCB"};

/* ---- fixed facts: the in-quarter and distinct figures, appendices, named docs ---- */

enum fx_kind {
    FX_BRIEFING, FX_PROPAGANDA, FX_CONCLUDED, FX_PREPARING, FX_CHECK, FX_PENALTY,
    FX_LAND_JOINED, FX_LAND_LINKED, FX_TASK, FX_HIGHLIGHT, FX_NAMED_DOC
};

typedef struct fixed {
    int32_t day;
    int secs;
    int order;             /* creation order, for a stable sort */
    enum fx_kind kind;
    const char *unit;      /* event unit or document sender */
    const char *text;      /* topic / subject / title */
    const char *text2;     /* sector / description / notation */
    const char *text3;
    int64_t n1, n2;        /* counts, amounts; highlight: visitors, revenue */
    int32_t day2;          /* highlight end date */
    char buf[160];         /* owned text (check subjects, decision numbers) */
} fixed_t;

#define FIXED_MAX 256

typedef struct sim {
    out_t *o;
    rng_t r;
    double scale;
    const units_t *reg;
    sim_unit_t *su;
    size_t nsu;
    uint64_t cum_send, cum_recv;
    uint64_t *cum_send_arr, *cum_recv_arr;
    sim_unit_t *rating[RATING_UNITS];
    sim_unit_t *districts[24];
    fixed_t fx[FIXED_MAX];
    int nfx;
    int year;
    uint64_t ev_seq[16];
    uint64_t device_seq;
    /* targets */
    long t_docs, t_mail, t_device, t_web;
    long est_lines;
    int progress;
} sim_t;

static sim_unit_t *su_find(sim_t *s, const char *code)
{
    const unit_t *u = units_find(s->reg, code);
    return u ? &s->su[u - units_at(s->reg, 0)] : NULL;
}

static sim_unit_t *pick(sim_t *s, const uint64_t *cum, uint64_t total)
{
    uint64_t x = rng_next(&s->r) % total;
    size_t lo = 0, hi = s->nsu - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return &s->su[lo];
}

static fixed_t *fx_add(sim_t *s, enum fx_kind k, const char *day, int secs, const char *unit)
{
    fixed_t *f = &s->fx[s->nfx];
    memset(f, 0, sizeof *f);
    f->kind = k;
    f->day = day_of(day);
    f->secs = secs;
    f->order = s->nfx++;
    f->unit = unit;
    return f;
}

static fixed_t *fx_add_d(sim_t *s, enum fx_kind k, int32_t day, int secs, const char *unit)
{
    char ymd[16];
    return fx_add(s, k, vn_date_format(day, ymd, sizeof ymd), secs, unit);
}

static int cmp_fixed(const void *a, const void *b)
{
    const fixed_t *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->secs != y->secs)
        return x->secs < y->secs ? -1 : 1;
    return x->order - y->order;
}

/* Working days of quarter q, into days[] (at most 92). Returns the count. */
static int workdays(quarter_t q, int32_t *days)
{
    int n = 0;
    for (int32_t d = quarter_first_day(q); d < quarter_first_day(q + 1); d++)
        if (is_workday(d))
            days[n++] = d;
    return n;
}

/* Splits total into n parts each >= min (total >= n*min), seeded. */
static void split(rng_t *r, int64_t total, int n, int64_t min, int64_t unit, int64_t *parts)
{
    int64_t units = total / unit - (int64_t)n * (min / unit);
    for (int i = 0; i < n; i++)
        parts[i] = min;
    while (units-- > 0)
        parts[rng_below(r, (uint32_t)n)] += unit;
}

static const char *sector_names[] = {"INTERNET", "TELECOM", "PUBLISHING", "PRESS"};

static const char *check_subject_fmt[] = {
    "Điểm cung cấp dịch vụ trò chơi điện tử công cộng số %02d (%s)",
    "Doanh nghiệp cung cấp dịch vụ viễn thông số %02d (%s)",
    "Cơ sở in, phát hành xuất bản phẩm số %02d (%s)",
    "Cơ quan báo chí số %02d (%s)",
};

static const char *propaganda_topics[] = {
    "Nghị quyết số 54/2017/QH14 về cơ chế, chính sách đặc thù phát triển Thành phố",
    "Chào năm mới, đón Xuân Mậu Tuất 2018",
    "Kỷ niệm 50 năm Tổng tiến công và nổi dậy Xuân Mậu Thân 1968",
    "Lễ hội Áo dài 2018",
    "An toàn thực phẩm trước, trong và sau Tết",
    "Trật tự an toàn giao thông dịp Tết Nguyên đán",
    "Đề án xây dựng Thành phố Hồ Chí Minh trở thành đô thị thông minh",
    "Cải cách hành chính năm 2018",
    "Ngày Quyền của người tiêu dùng Việt Nam 2018",
    "Biển, đảo Việt Nam năm 2018",
    "Phòng, chống tác hại của thuốc lá",
    "Chống buôn lậu, gian lận thương mại và hàng giả dịp Tết",
};

/* Builds every fixed fact of the profile. The Q1/2018 ones are exact at any scale. */
static void build_fixed(sim_t *s)
{
    int32_t wd[92];
    int nwd;
    int64_t parts[40];
    int i;
    fixed_t *f;
    const quarter_t q1 = 2018 * 4, q2 = q1 + 1, q4_17 = q1 - 1;
    static const char *tuesdays[] = {"2018-01-02", "2018-01-09", "2018-01-16", "2018-01-23",
                                     "2018-01-30", "2018-02-06", "2018-02-27", "2018-03-06",
                                     "2018-03-13", "2018-03-20", "2018-03-27"};

    /* press.briefings 11, press.commended 95 */
    split(&s->r, 95, 11, 4, 1, parts);
    for (i = 0; i < 11; i++) {
        f = fx_add(s, FX_BRIEFING, tuesdays[i], 14 * 3600, C_STTTT);
        f->text = propaganda_topics[i % 12];
        f->n1 = parts[i];
    }
    /* press.propaganda 86 items in 12 assignments */
    nwd = workdays(q1, wd);
    split(&s->r, 86, 12, 2, 1, parts);
    for (i = 0; i < 12; i++) {
        f = fx_add_d(s, FX_PROPAGANDA, wd[i * nwd / 12], 10 * 3600, C_STTTT);
        f->text = propaganda_topics[i];
        f->n1 = parts[i];
    }
    /* inspect.conclusions 2, inspect.preparing 1 */
    f = fx_add(s, FX_CONCLUDED, "2018-01-24", 9 * 3600, C_STTTT);
    f->text = "Kết luận thanh tra việc chấp hành pháp luật về xuất bản, in, phát hành (kế hoạch năm 2017)";
    f = fx_add(s, FX_CONCLUDED, "2018-03-08", 9 * 3600, C_STTTT);
    f->text = "Kết luận thanh tra việc chấp hành pháp luật về bưu chính, viễn thông (kế hoạch năm 2017)";
    f = fx_add(s, FX_PREPARING, "2018-03-20", 9 * 3600, C_STTTT);
    f->text = "Khảo sát, thu thập thông tin chuẩn bị thanh tra hoạt động thông tin điện tử";
    /* inspect.checked 39 = 21 + 6 + 9 + 3; 13 of them end in a penalty decision, the
     * amounts summing to 189,000,000 VND */
    {
        int sectors[39], viol[39] = {0}, k = 0, nviol = 0, seq[4] = {0};
        for (i = 0; i < 21; i++) sectors[k++] = 0;
        for (i = 0; i < 6; i++) sectors[k++] = 1;
        for (i = 0; i < 9; i++) sectors[k++] = 2;
        for (i = 0; i < 3; i++) sectors[k++] = 3;
        for (i = 38; i > 0; i--) { /* Fisher-Yates */
            int j = (int)rng_below(&s->r, (uint32_t)i + 1), t = sectors[i];
            sectors[i] = sectors[j], sectors[j] = t;
        }
        while (nviol < 13) {
            int j = (int)rng_below(&s->r, 39);
            if (!viol[j])
                viol[j] = 1, nviol++;
        }
        split(&s->r, 189000000, 13, 2000000, 500000, parts);
        for (i = 0, nviol = 0; i < 39; i++) {
            int32_t day = wd[i * (nwd - 8) / 39];
            const sim_unit_t *d = s->districts[rng_below(&s->r, 24)];
            const char *dname = strstr(d->u->name, "Quận") ? strstr(d->u->name, "Quận")
                                                            : strstr(d->u->name, "Huyện");
            f = fx_add_d(s, FX_CHECK, day, (8 + (int)rng_below(&s->r, 8)) * 3600, C_STTTT);
            snprintf(f->buf, sizeof f->buf, check_subject_fmt[sectors[i]], ++seq[sectors[i]],
                     dname ? dname : d->u->name);
            f->text = f->buf;
            f->text2 = sector_names[sectors[i]];
            f->n1 = viol[i];
            if (viol[i]) {
                fixed_t *p;
                int32_t pday = wd[i * (nwd - 8) / 39 + 2 + (int)rng_below(&s->r, 5)];
                const char *subject = f->buf;
                p = fx_add_d(s, FX_PENALTY, pday, 15 * 3600, C_STTTT);
                memcpy(p->buf, subject, sizeof p->buf);
                p->text = p->buf;
                p->text2 = sector_names[sectors[i]];
                p->n1 = parts[nviol++];
                p->n2 = nviol; /* decision number */
            }
        }
    }
    /* land.branches 24 and land.linked 19 (the 20th in 2018-Q2): a seeded order of the
     * districts; joined 6/6/8 in 2017-Q2..Q4 and 4 in 2018-Q1, linked 12 in 2017-Q4 and
     * 7 in 2018-Q1 */
    {
        sim_unit_t *order[24];
        memcpy(order, s->districts, sizeof order);
        for (i = 23; i > 0; i--) {
            int j = (int)rng_below(&s->r, (uint32_t)i + 1);
            sim_unit_t *t = order[i];
            order[i] = order[j], order[j] = t;
        }
        for (i = 0; i < 24; i++) {
            quarter_t q = i < 6 ? q1 - 3 : i < 12 ? q1 - 2 : i < 20 ? q1 - 1 : q1;
            int32_t qd[92];
            int nqd = workdays(q, qd);
            f = fx_add_d(s, FX_LAND_JOINED, qd[rng_below(&s->r, (uint32_t)nqd / 2)], 9 * 3600,
                         order[i]->u->code);
            f->text = order[i]->u->code;
            if (i < 20) {
                quarter_t lq = i < 12 ? q1 - 1 : i < 19 ? q1 : q2;
                nqd = workdays(lq, qd);
                /* second half of the quarter: after joining when both fall in one quarter */
                f = fx_add_d(s, FX_LAND_LINKED, qd[nqd / 2 + (int)rng_below(&s->r, (uint32_t)nqd / 2)],
                             10 * 3600, order[i]->u->code);
                f->text = order[i]->u->code;
            }
        }
    }
    /* appendix 1: the four programme tasks, reported at the end of the quarter */
    f = fx_add(s, FX_TASK, "2018-03-29", 9 * 3600, C_STTTT);
    f->text = "Đề án xây dựng Công viên phần mềm Quang Trung 2";
    f->text2 = "2018-Q1";
    f->text3 = "Sở đã đôn đốc đơn vị phát triển công viên chuẩn bị đề án; ngày 09/3/2018 lãnh đạo "
               "Thành phố chỉ đạo hoàn thiện lại thủ tục pháp lý và quy trình đề xuất dự án trước khi "
               "trình. Sở tiếp tục hỗ trợ đơn vị triển khai.";
    f->n1 = 1;
    f = fx_add(s, FX_TASK, "2018-03-29", 9 * 3600 + 60, C_STTTT);
    f->text = "Nghiên cứu cơ chế tự chủ tài chính cho các cơ quan báo chí Thành phố";
    f->text2 = "2018-Q4";
    f->text3 = "Đang nghiên cứu phương án phù hợp với thực tế của Thành phố.";
    f = fx_add(s, FX_TASK, "2018-03-29", 9 * 3600 + 120, C_STTTT);
    f->text = "Xây dựng các kiosk bán báo hỗ trợ phát hành báo chí";
    f->text2 = "2018-Q4";
    f->text3 = "Chưa có cập nhật tiến độ trong quý.";
    f = fx_add(s, FX_TASK, "2018-03-29", 9 * 3600 + 180, C_STTTT);
    f->text = "Thành lập Trung tâm Báo chí Thành phố và hạ tầng dữ liệu truyền thông đa phương tiện dùng chung";
    f->text2 = "2018-Q4";
    f->text3 = "Dự thảo đề án đã gửi Ủy ban nhân dân Thành phố ngày 13/3/2018 (413/STTTT-KHTH), lấy "
               "ý kiến các cơ quan báo chí và sở ngành từ 15/3, hội nghị góp ý ngày 21/3/2018; đang "
               "hoàn thiện đề án.";
    /* appendix 2: the six highlight events */
    f = fx_add(s, FX_HIGHLIGHT, "2018-01-08", 9 * 3600, C_STTTT);
    f->text = "Thành phố ký thỏa thuận hợp tác toàn diện với Tổng công ty Bưu điện Việt Nam";
    f->text2 = "Sở Thông tin và Truyền thông tham mưu nội dung hợp tác cho Ủy ban nhân dân Thành phố.";
    f = fx_add(s, FX_HIGHLIGHT, "2018-01-11", 9 * 3600, C_STTTT);
    f->text = "Họp báo công bố nâng cấp, mở rộng hệ thống 1022 tiếp nhận thông tin sự cố hạ tầng kỹ thuật";
    f = fx_add(s, FX_HIGHLIGHT, "2018-01-25", 9 * 3600, C_STTTT);
    f->text = "Ký thỏa thuận tài trợ với USTDA cho Trung tâm tiếp nhận, xử lý thông tin khẩn cấp";
    f->text2 = "Trung tâm tiếp nhận, xử lý thông tin khẩn cấp, cứu nạn cứu hộ qua một số điện thoại "
               "duy nhất, giai đoạn 2016-2020 và sau 2020; Sở ký thay mặt Ủy ban nhân dân Thành phố.";
    f = fx_add(s, FX_HIGHLIGHT, "2018-02-13", 8 * 3600, C_STTTT);
    f->text = "Lễ hội Đường sách Tết Mậu Tuất 2018";
    f->text2 = "Chủ đề Khát vọng vươn cao, trên các đường Mạc Thị Bưởi, Nguyễn Huệ, Ngô Đức Kế (Quận 1); "
               "lần đầu tổ chức theo hình thức xã hội hóa hoàn toàn.";
    f->day2 = day_of("2018-02-19");
    f->n1 = 1000000;
    f->n2 = 4500000000LL;
    f = fx_add(s, FX_HIGHLIGHT, "2018-03-13", 9 * 3600, C_STTTT);
    f->text = "Trình Thành phố kế hoạch Gặp gỡ đầu năm ngành Công nghệ thông tin - Viễn thông 2018";
    f->text2 = "Văn bản 411/STTTT-KHTH; sự kiện dự kiến tổ chức đầu tháng 4/2018.";
    f = fx_add(s, FX_HIGHLIGHT, "2018-03-14", 9 * 3600, C_STTTT);
    f->text = "Họp báo giới thiệu Hội sách Thành phố Hồ Chí Minh lần thứ X";
    f->text2 = "Chủ đề Sách - Văn hóa, Hội nhập và Phát triển; Hội sách diễn ra 19-25/3/2018 tại Công "
               "viên văn hóa Lê Văn Tám, Quận 1.";
    /* named documents of the seed (they count in docs.exchanged) */
    {
        static const struct {
            const char *day, *from, *number, *type, *notation, *subject, *to[3];
        } named[] = {
            {"2018-01-11", C_STTTT, "65", "CONG_VAN", "STTTT-KHTH",
             "Về việc khẩn trương chuẩn bị Đề án xây dựng Công viên phần mềm Quang Trung 2", {C_QTSC}},
            {"2018-01-23", C_UBND, "331", "KE_HOACH", "KH-UBND",
             "Kế hoạch tổ chức Đường sách Tết Mậu Tuất năm 2018", {C_STTTT, C_SVHTT, C_Q1}},
            {"2018-01-29", C_UBND, "409", "KE_HOACH", "KH-UBND",
             "Kế hoạch ứng dụng công nghệ thông tin trong hoạt động của cơ quan nhà nước năm 2018",
             {C_STTTT, C_SKHDT, C_STC}},
            {"2018-02-01", C_STTTT, "263", "CONG_VAN", "STTTT-CNTT",
             "Về vận hành chính thức dịch vụ thanh toán trực tuyến cho dịch vụ hành chính công tại Sở Y tế",
             {C_SYT}},
            {"2018-03-13", C_STTTT, "411", "CONG_VAN", "STTTT-KHTH",
             "Báo cáo chuẩn bị tổ chức Gặp gỡ đầu năm ngành Công nghệ thông tin - Viễn thông năm 2018",
             {C_UBND}},
            {"2018-03-13", C_STTTT, "413", "CONG_VAN", "STTTT-KHTH",
             "Báo cáo tình hình chuẩn bị đề án thành lập Trung tâm Báo chí Thành phố Hồ Chí Minh",
             {C_UBND}},
            {"2018-03-29", C_STTTT, "30", "BAO_CAO", "BC-STTTT",
             "Báo cáo hoạt động Quý I/2018 và nhiệm vụ, giải pháp trọng tâm Quý II/2018",
             {C_UBND, C_VP}},
        };
        for (i = 0; i < (int)(sizeof named / sizeof named[0]); i++) {
            f = fx_add(s, FX_NAMED_DOC, named[i].day, 0, named[i].from);
            f->text = named[i].subject;
            f->text2 = named[i].notation;
            f->text3 = named[i].type;
            snprintf(f->buf, sizeof f->buf, "%s", named[i].number);
            f->n1 = (int64_t)(named[i].to[1] ? (named[i].to[2] ? 3 : 2) : 1);
            /* recipients: pointer table kept static */
            f->n2 = i;
        }
    }
    /* history (2017-Q4) and 2018-Q2 facts: outside the Q1/2018 window on purpose */
    nwd = workdays(q4_17, wd);
    for (i = 0; i < 3; i++) {
        f = fx_add_d(s, FX_BRIEFING, wd[10 + i * 15], 14 * 3600, C_STTTT);
        f->text = "Giao ban báo chí định kỳ";
        f->n1 = 6 + i;
    }
    f = fx_add_d(s, FX_PROPAGANDA, wd[20], 10 * 3600, C_STTTT);
    f->text = "Kỷ niệm 100 năm Cách mạng Tháng Mười Nga";
    f->n1 = 12;
    f = fx_add_d(s, FX_CONCLUDED, wd[30], 9 * 3600, C_STTTT);
    f->text = "Kết luận thanh tra hoạt động cung cấp dịch vụ Internet (kế hoạch năm 2017)";
    f = fx_add_d(s, FX_CHECK, wd[35], 9 * 3600, C_STTTT);
    snprintf(f->buf, sizeof f->buf, "Trang thông tin điện tử tổng hợp số 41 (Quận 3)");
    f->text = f->buf, f->text2 = "INTERNET", f->n1 = 1;
    f = fx_add_d(s, FX_PENALTY, wd[38], 15 * 3600, C_STTTT);
    snprintf(f->buf, sizeof f->buf, "Trang thông tin điện tử tổng hợp số 41 (Quận 3)");
    f->text = f->buf, f->text2 = "INTERNET", f->n1 = 10000000, f->n2 = 52;
    nwd = workdays(q2, wd);
    f = fx_add(s, FX_BRIEFING, "2018-04-03", 14 * 3600, C_STTTT);
    f->text = "Giao ban báo chí định kỳ", f->n1 = 9;
    f = fx_add(s, FX_BRIEFING, "2018-04-10", 14 * 3600, C_STTTT);
    f->text = "Giao ban báo chí định kỳ", f->n1 = 7;
    f = fx_add(s, FX_PROPAGANDA, "2018-04-09", 10 * 3600, C_STTTT);
    f->text = "Giỗ Tổ Hùng Vương, ngày 30/4 và 1/5", f->n1 = 5;
    f = fx_add(s, FX_PREPARING, "2018-04-12", 9 * 3600, C_STTTT);
    f->text = "Chuẩn bị thanh tra hoạt động quảng cáo trên mạng xã hội";
    f = fx_add(s, FX_CHECK, "2018-04-11", 9 * 3600, C_STTTT);
    snprintf(f->buf, sizeof f->buf, "Cơ quan báo chí số 04 (Quận 3)");
    f->text = f->buf, f->text2 = "PRESS", f->n1 = 1;
    f = fx_add(s, FX_PENALTY, "2018-04-17", 15 * 3600, C_STTTT);
    snprintf(f->buf, sizeof f->buf, "Cơ quan báo chí số 04 (Quận 3)");
    f->text = f->buf, f->text2 = "PRESS", f->n1 = 7500000, f->n2 = 14;
    f = fx_add(s, FX_HIGHLIGHT, "2018-04-21", 8 * 3600, C_STTTT);
    f->text = "Ngày sách Việt Nam lần thứ 5";
    f->day2 = day_of("2018-04-23");
    (void)nwd;
    qsort(s->fx, (size_t)s->nfx, sizeof s->fx[0], cmp_fixed);
}

/* Recipients of the named documents, by their index (fixed.n2). */
static const char *named_to[][3] = {
    {C_QTSC}, {C_STTTT, C_SVHTT, C_Q1}, {C_STTTT, C_SKHDT, C_STC}, {C_SYT}, {C_UBND}, {C_UBND},
    {C_UBND, C_VP},
};

/* ---- writers ---- */

static void ev_begin(sim_t *s, const char *prefix, int slot, const char *unit, const char *ymd,
                     int secs, const char *branch)
{
    out_t *o = s->o;
    puts_(o, "{\"type\":\"event\",\"event_id\":\"");
    puts_(o, prefix);
    putn(o, "-", 1);
    putu_w(o, ++s->ev_seq[slot], 6);
    puts_(o, "\",\"unit\":\"");
    puts_(o, unit);
    puts_(o, "\",\"occurred_at\":\"");
    put_time(o, ymd, secs);
    puts_(o, "\",\"detail\":{\"");
    puts_(o, branch);
    puts_(o, "\":{");
}

static void put_str_field(out_t *o, const char *name, const char *val, int comma)
{
    if (comma)
        putn(o, ",", 1);
    putn(o, "\"", 1);
    puts_(o, name);
    puts_(o, "\":\"");
    puts_(o, val);
    putn(o, "\"", 1);
}

static void put_int_field(out_t *o, const char *name, int64_t val, int comma)
{
    if (comma)
        putn(o, ",", 1);
    putn(o, "\"", 1);
    puts_(o, name);
    puts_(o, "\":");
    if (val < 0) {
        putn(o, "-", 1);
        val = -val;
    }
    putu(o, (uint64_t)val);
}

static void emit_doc(sim_t *s, sim_unit_t *from, sim_unit_t **to, int nto, const char *ymd,
                     const char *number, const char *notation, const char *type,
                     const char *subject, uint32_t pages, int deputy, int statuses);

static void emit_fixed(sim_t *s, fixed_t *f, const char *ymd)
{
    out_t *o = s->o;
    char d2[16];
    switch (f->kind) {
    case FX_BRIEFING:
        ev_begin(s, "GB", 0, f->unit, ymd, f->secs, "PressBriefing");
        put_str_field(o, "topic", f->text, 0);
        put_int_field(o, "articles_commended", f->n1, 1);
        break;
    case FX_PROPAGANDA:
        ev_begin(s, "TT", 1, f->unit, ymd, f->secs, "PropagandaAssigned");
        put_str_field(o, "topic", f->text, 0);
        put_int_field(o, "items", f->n1, 1);
        break;
    case FX_CONCLUDED:
        ev_begin(s, "KL", 2, f->unit, ymd, f->secs, "InspectionConcluded");
        put_str_field(o, "subject", f->text, 0);
        break;
    case FX_PREPARING:
        ev_begin(s, "KS", 3, f->unit, ymd, f->secs, "InspectionPreparing");
        put_str_field(o, "subject", f->text, 0);
        break;
    case FX_CHECK:
        ev_begin(s, "KT", 4, f->unit, ymd, f->secs, "InspectionCheck");
        put_str_field(o, "subject", f->text, 0);
        put_str_field(o, "sector", f->text2, 1);
        put_str_field(o, "outcome", f->n1 ? "VIOLATION" : "COMPLIANT", 1);
        break;
    case FX_PENALTY: {
        char no[48];
        snprintf(no, sizeof no, "%lld/QĐ-XPVPHC", (long long)f->n2);
        ev_begin(s, "XP", 5, f->unit, ymd, f->secs, "PenaltyDecision");
        put_str_field(o, "decision_no", no, 0);
        put_str_field(o, "subject", f->text, 1);
        put_str_field(o, "sector", f->text2, 1);
        put_int_field(o, "amount_vnd", f->n1, 1);
        break;
    }
    case FX_LAND_JOINED:
        ev_begin(s, "CNDD", 6, f->unit, ymd, f->secs, "LandBranchJoined");
        put_str_field(o, "district", f->text, 0);
        break;
    case FX_LAND_LINKED:
        ev_begin(s, "LTDD", 7, f->unit, ymd, f->secs, "LandDatabaseLinked");
        put_str_field(o, "district", f->text, 0);
        break;
    case FX_TASK:
        ev_begin(s, "NV", 8, f->unit, ymd, f->secs, "TaskProgress");
        put_str_field(o, "task", f->text, 0);
        put_str_field(o, "lead_agency", "Sở Thông tin và Truyền thông", 1);
        puts_(o, f->n1 ? ",\"cooperating\":[\"Các sở, ban, ngành\",\"Ủy ban nhân dân các quận, huyện\","
                         "\"Các viện, trường, hiệp hội\"]"
                       : ",\"cooperating\":[\"Các sở, ngành có liên quan\"]");
        put_str_field(o, "deadline_quarter", f->text2, 1);
        put_str_field(o, "progress", f->text3, 1);
        break;
    case FX_HIGHLIGHT:
        ev_begin(s, "SK", 9, f->unit, ymd, f->secs, "Highlight");
        put_str_field(o, "title", f->text, 0);
        put_str_field(o, "start_date", ymd, 1);
        put_str_field(o, "end_date", f->day2 ? vn_date_format(f->day2, d2, sizeof d2) : ymd, 1);
        if (f->text2)
            put_str_field(o, "description", f->text2, 1);
        if (f->n1)
            put_int_field(o, "visitors", f->n1, 1);
        if (f->n2)
            put_int_field(o, "revenue_vnd", f->n2, 1);
        break;
    case FX_NAMED_DOC: {
        sim_unit_t *to[3];
        int i;
        for (i = 0; i < f->n1; i++)
            to[i] = su_find(s, named_to[f->n2][i]);
        emit_doc(s, su_find(s, f->unit), to, (int)f->n1, ymd, f->buf, f->text2, f->text3, f->text,
                 2 + (uint32_t)rng_below(&s->r, 4), 0, 2);
        return;
    }
    }
    putn(o, "}}", 2);
    end_line(o);
}

static void emit_status(sim_t *s, const char *doc_id, size_t idlen, sim_unit_t *from,
                        sim_unit_t *to, const char *code, int32_t day, int secs,
                        const char *desc)
{
    out_t *o = s->o;
    char ymd[16];
    while (secs >= 86400) {
        day++;
        secs -= 86400;
    }
    puts_(o, "{\"type\":\"status\",\"doc_id\":\"");
    putn(o, doc_id, idlen);
    puts_(o, "\",\"from\":\"");
    puts_(o, from->u->code);
    puts_(o, "\",\"to\":\"");
    puts_(o, to->u->code);
    puts_(o, "\",\"code\":\"");
    puts_(o, code);
    puts_(o, "\",\"description\":\"");
    puts_(o, desc);
    puts_(o, "\",\"at\":\"");
    put_time(o, vn_date_format(day, ymd, sizeof ymd), secs);
    putn(o, "\"", 1);
    end_line(o);
}

/* Writes one document; statuses: 0 none, 1 maybe (seeded fraction), 2 always. */
static void emit_doc(sim_t *s, sim_unit_t *from, sim_unit_t **to, int nto, const char *ymd,
                     const char *number, const char *notation, const char *type,
                     const char *subject, uint32_t pages, int deputy, int statuses)
{
    out_t *o = s->o;
    char id[160];
    int idlen;
    idlen = snprintf(id, sizeof id, "%s,%.4s/%.2s/%.2s,%s/%s", from->u->code, ymd, ymd + 5,
                     ymd + 8, number, notation);
    puts_(o, "{\"type\":\"document\",\"doc_id\":\"");
    putn(o, id, (size_t)idlen);
    puts_(o, "\",\"from\":{\"code\":\"");
    puts_(o, from->u->code);
    puts_(o, "\",\"name\":\"");
    puts_(o, from->name);
    puts_(o, "\"},\"to\":[");
    for (int i = 0; i < nto; i++) {
        puts_(o, i ? ",{\"code\":\"" : "{\"code\":\"");
        puts_(o, to[i]->u->code);
        puts_(o, "\",\"name\":\"");
        puts_(o, to[i]->name);
        puts_(o, "\"}");
    }
    puts_(o, "],\"number\":\"");
    puts_(o, number);
    puts_(o, "\",\"notation\":\"");
    puts_(o, notation);
    puts_(o, "\",\"promulgation_place\":\"Thành phố Hồ Chí Minh\",\"promulgation_date\":\"");
    putn(o, ymd, 10);
    puts_(o, "\",\"document_type\":\"");
    puts_(o, type);
    puts_(o, "\",\"subject\":\"");
    puts_(o, subject);
    puts_(o, "\",\"signer\":{\"position\":\"");
    puts_(o, deputy ? from->deputy : from->head);
    puts_(o, "\",\"full_name\":\"");
    puts_(o, deputy ? from->deputy_name : from->head_name);
    puts_(o, "\"},\"page_amount\":");
    putu(o, pages);
    end_line(o);

    if (statuses == 2 || (statuses == 1 && rng_below(&s->r, 20) == 0)) {
        int32_t day = day_of(ymd);
        int secs = 8 * 3600 + (int)rng_below(&s->r, 9 * 3600);
        emit_status(s, id, (size_t)idlen, to[0], from, "S01", day, secs, "Đã đến hệ thống");
        if (statuses == 2 || rng_below(&s->r, 2) == 0) {
            secs += 3600 + (int)rng_below(&s->r, 47 * 3600);
            emit_status(s, id, (size_t)idlen, to[0], from, "S03", day, secs, "Văn thư đã tiếp nhận");
            if (statuses == 1 && rng_below(&s->r, 3) == 0)
                emit_status(s, id, (size_t)idlen, to[0], from, "S06", day + 1 + (int)rng_below(&s->r, 10),
                            secs % 86400, "Đã hoàn thành xử lý");
        }
    }
}

static int reserved_2018(sim_t *s, sim_unit_t *u, uint32_t n)
{
    if (s->year != 2018)
        return 0;
    if (strcmp(u->u->code, C_STTTT) == 0)
        return n == 30 || n == 65 || n == 263 || n == 411 || n == 413;
    if (strcmp(u->u->code, C_UBND) == 0)
        return n == 331 || n == 409;
    return 0;
}

/* One generated document on day ymd of year s->year. */
static void gen_doc(sim_t *s, const char *ymd, int statuses)
{
    sim_unit_t *from = pick(s, s->cum_send_arr, s->cum_send), *to[3];
    int nto = 1 + (rng_below(&s->r, 10) < 3) + (rng_below(&s->r, 10) < 2), i, j;
    uint32_t w = rng_below(&s->r, 100), acc = 0, no;
    const doctype_t *dt = &doctypes[0];
    char number[16], notation[64], subject[400];
    const char *topic = topics[rng_below(&s->r, NTOPICS)];

    for (i = 0; i < nto; i++) {
        do {
            to[i] = pick(s, s->cum_recv_arr, s->cum_recv);
            for (j = 0; j < i && to[j] != to[i]; j++)
                ;
        } while (to[i] == from || j < i);
    }
    for (size_t k = 0; k < NDOCTYPES; k++) {
        acc += doctypes[k].weight;
        if (w < acc) {
            dt = &doctypes[k];
            break;
        }
    }
    if (strcmp(dt->sym, "CHI_THI") == 0 && from->u->kind != UNIT_CITY &&
        from->u->kind != UNIT_DISTRICT)
        dt = &doctypes[0]; /* only People's Committees issue directives */
    do
        no = ++from->next_no;
    while (reserved_2018(s, from, no));
    snprintf(number, sizeof number, "%u", no);
    if (dt->prefix[0]) {
        snprintf(notation, sizeof notation, "%s-%s", dt->prefix, from->u->abbr);
    } else {
        const char **offices = offices_other;
        uint32_t n = sizeof offices_other / sizeof *offices_other;
        if (strcmp(from->u->code, C_STTTT) == 0)
            offices = offices_sttt, n = sizeof offices_sttt / sizeof *offices_sttt;
        else if (from->u->kind == UNIT_CITY)
            offices = offices_city, n = sizeof offices_city / sizeof *offices_city;
        snprintf(notation, sizeof notation, "%s-%s", from->u->abbr, offices[rng_below(&s->r, n)]);
    }
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(subject, sizeof subject, dt->subject, topic, s->year);
#pragma GCC diagnostic pop
    emit_doc(s, from, to, nto, ymd, number, notation, dt->sym, subject,
             1 + rng_below(&s->r, 6), rng_below(&s->r, 3) == 0, statuses);
}

static void gen_rating(sim_t *s, const char *ymd, int device)
{
    sim_unit_t *u;
    uint32_t l = rng_below(&s->r, 100);
    if (device && s->device_seq < RATING_UNITS)
        u = s->rating[s->device_seq]; /* the first 42 device ratings cover every unit */
    else
        u = s->rating[rng_below(&s->r, RATING_UNITS)];
    if (device)
        s->device_seq++;
    ev_begin(s, device ? "DGTB" : "DGW", device ? 10 : 11, u->u->code, ymd,
             7 * 3600 + 1800 + (int)rng_below(&s->r, 9 * 3600), "Rating");
    puts_(s->o, device ? "\"channel\":\"DEVICE\",\"level\":\"" : "\"channel\":\"WEB\",\"level\":\"");
    puts_(s->o, l < 62 ? "VERY_SATISFIED" : l < 94 ? "SATISFIED" : "UNSATISFIED");
    puts_(s->o, "\",\"service\":\"");
    puts_(s->o, services[rng_below(&s->r, sizeof services / sizeof *services)]);
    puts_(s->o, "\"}}");
    end_line(s->o);
}

static void gen_mail(sim_t *s, const char *ymd, long count)
{
    sim_unit_t *u = pick(s, s->cum_recv_arr, s->cum_recv);
    ev_begin(s, "HT", 12, u->u->code, ymd, 8 * 3600 + (int)rng_below(&s->r, 8 * 3600),
             "MailboxesIssued");
    put_int_field(s->o, "count", count, 0);
    putn(s->o, "}}", 2);
    end_line(s->o);
}

static void progress(sim_t *s, int final)
{
    if (!s->progress)
        return;
    if (final || (s->o->lines & 0xFFFF) == 0)
        fprintf(stderr, "\rdocbus simulate: %5.1f%% %llu lines", s->est_lines ?
                100.0 * (double)s->o->lines / (double)s->est_lines : 100.0,
                (unsigned long long)s->o->lines);
    if (final)
        fputc('\n', stderr);
}

/* Splits a quarter's total over the quarter's working days: the i-th of n days
 * gets total/n, plus one for the first total%n days. */
static long per_day(long total, int i, int n)
{
    return total / n + (i < total % n);
}

/* The growing history: weight of quarter index qi (0 = 2016-Q1 .. 8 = 2018-Q1). */
static const long qweight[NQ] = {3, 4, 5, 6, 8, 10, 12, 14, 16};

static long share(long total, int qi)
{
    long wsum = 0, acc = 0;
    for (int i = 0; i < NQ; i++)
        wsum += qweight[i];
    if (qi < NQ - 1)
        return total * qweight[qi] / wsum;
    for (int i = 0; i < NQ - 1; i++)
        acc += total * qweight[i] / wsum;
    return total - acc; /* the report quarter takes the rounding rest */
}

#define Q2_DOCS 5
#define Q2_DEVICE 4
#define Q2_WEB 2
#define Q2_MAIL 25

static void run(sim_t *s)
{
    const quarter_t q0 = 2016 * 4, qlast = 2018 * 4 + 1; /* through 2018-Q2 */
    int fi = 0, nnamed = 0;
    for (int i = 0; i < s->nfx; i++)
        nnamed += s->fx[i].kind == FX_NAMED_DOC;

    for (quarter_t q = q0; q <= qlast; q++) {
        int qi = q - q0, nwd, wi = 0;
        int32_t wd[92];
        long docs, device, web, mail;
        nwd = workdays(q, wd);
        if (qi < NQ) {
            docs = share(s->t_docs, qi) - (qi == NQ - 1 ? nnamed : 0);
            device = share(s->t_device, qi);
            web = share(s->t_web, qi);
            mail = share(s->t_mail, qi);
        } else {
            docs = Q2_DOCS, device = Q2_DEVICE, web = Q2_WEB, mail = Q2_MAIL;
            nwd = 10; /* early April only */
        }
        for (int32_t day = quarter_first_day(q); day < quarter_first_day(q + 1); day++) {
            char ymd[16];
            vn_date_format(day, ymd, sizeof ymd);
            if (atoi(ymd) != s->year) { /* document numbers restart every year */
                s->year = atoi(ymd);
                for (size_t u = 0; u < s->nsu; u++)
                    s->su[u].next_no = 0;
            }
            while (fi < s->nfx && s->fx[fi].day == day)
                emit_fixed(s, &s->fx[fi++], ymd);
            if (wi >= nwd || wd[wi] != day)
                continue;
            long nd = per_day(docs, wi, nwd), nr = per_day(device, wi, nwd);
            long nw = per_day(web, wi, nwd), nm = per_day(mail, wi, nwd);
            for (long k = 0; k < nd; k++) {
                gen_doc(s, ymd, s->year >= 2018);
                progress(s, 0);
            }
            for (long k = 0; k < nr; k++)
                gen_rating(s, ymd, 1);
            for (long k = 0; k < nw; k++)
                gen_rating(s, ymd, 0);
            while (nm > 0) {
                long c = 1 + (long)rng_below(&s->r, 40);
                if (c > nm)
                    c = nm;
                gen_mail(s, ymd, c);
                nm -= c;
            }
            wi++;
        }
    }
    while (fi < s->nfx) /* nothing should be left; keeps the stream complete if so */
        emit_fixed(s, &s->fx[fi++], "2018-06-30");
}

/* ---- setup ---- */

static int setup_units(sim_t *s, char *err, size_t errsz)
{
    rng_t names;
    size_t n = units_count(s->reg), nr = 0, nd = 0;
    static const char *required[] = {C_UBND, C_VP, C_SKHDT, C_STC, C_SVHTT, C_STTTT, C_SYT,
                                     C_Q1, C_BDTP, C_QTSC, C_DSTP};
    rng_seed(&names, 2018, 99); /* signer names do not depend on --seed */
    s->su = calloc(n, sizeof *s->su);
    s->cum_send_arr = calloc(n, sizeof *s->cum_send_arr);
    s->cum_recv_arr = calloc(n, sizeof *s->cum_recv_arr);
    if (!s->su || !s->cum_send_arr || !s->cum_recv_arr) {
        snprintf(err, errsz, "out of memory");
        return DB_ERR_NOMEM;
    }
    s->nsu = n;
    for (size_t i = 0; i < n; i++) {
        sim_unit_t *u = &s->su[i];
        u->u = units_at(s->reg, i);
        json_escape(u->name, sizeof u->name, u->u->name);
        invent_name(u->head_name, sizeof u->head_name, &names);
        invent_name(u->deputy_name, sizeof u->deputy_name, &names);
        switch (u->u->kind) {
        case UNIT_CITY:
        case UNIT_DISTRICT:
        case UNIT_WARD:
            u->head = "Chủ tịch", u->deputy = "Phó Chủ tịch";
            u->weight_send = u->u->kind == UNIT_CITY ? 400 : u->u->kind == UNIT_DISTRICT ? 100 : 12;
            u->weight_recv = u->u->kind == UNIT_CITY ? 300 : u->u->kind == UNIT_DISTRICT ? 110 : 15;
            break;
        case UNIT_DEPARTMENT:
            u->head = "Giám đốc", u->deputy = "Phó Giám đốc";
            if (strncmp(u->u->name, "Văn phòng Ủy ban", 16) == 0)
                u->head = "Chánh Văn phòng", u->deputy = "Phó Chánh Văn phòng";
            else if (strncmp(u->u->name, "Thanh tra", 9) == 0)
                u->head = "Chánh Thanh tra", u->deputy = "Phó Chánh Thanh tra";
            else if (strncmp(u->u->name, "Ban", 3) == 0)
                u->head = "Trưởng ban", u->deputy = "Phó Trưởng ban";
            u->weight_send = strcmp(u->u->code, C_VP) == 0 ? 400 : 100;
            u->weight_recv = strcmp(u->u->code, C_VP) == 0 ? 200 : 120;
            break;
        case UNIT_PRESS:
            u->head = "Tổng Biên tập", u->deputy = "Phó Tổng Biên tập";
            if (strncmp(u->u->name, "Đài", 4) == 0)
                u->head = "Giám đốc", u->deputy = "Phó Giám đốc";
            u->weight_send = 5, u->weight_recv = 10;
            break;
        case UNIT_CORPORATION:
            u->head = "Tổng Giám đốc", u->deputy = "Phó Tổng Giám đốc";
            u->weight_send = 15, u->weight_recv = 20;
            break;
        }
        s->cum_send += u->weight_send;
        s->cum_recv += u->weight_recv;
        s->cum_send_arr[i] = s->cum_send;
        s->cum_recv_arr[i] = s->cum_recv;
        if (u->u->kind == UNIT_DISTRICT) {
            if (nd < 24)
                s->districts[nd] = u;
            nd++;
            if (nr < RATING_UNITS)
                s->rating[nr] = u;
            nr++;
        } else if (u->u->kind == UNIT_DEPARTMENT && strncmp(u->u->name, "Sở ", 4) == 0) {
            if (nr < RATING_UNITS)
                s->rating[nr] = u;
            nr++;
        }
    }
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!units_find(s->reg, required[i])) {
            snprintf(err, errsz, "the registry lacks unit %s, which the %s profile needs",
                     required[i], PROFILE);
            return DB_ERR_INVALID;
        }
    if (nd != 24 || nr != RATING_UNITS) {
        snprintf(err, errsz, "the %s profile needs 24 districts and %d rating units (districts "
                 "plus departments named \"Sở ...\"); the registry has %zu and %zu",
                 PROFILE, RATING_UNITS, nd, nr);
        return DB_ERR_INVALID;
    }
    return 0;
}

/* target = floor(seed figure x scale) + a seeded offset in [0, step x scale). */
static long scaled(double figure, double scale, rng_t *r)
{
    long base = (long)floor(figure * scale + 1e-9);
    return base + (long)floor(rng_unit(r) * ROUNDING_STEP * scale);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: docbus simulate [--profile hcmc-2018q1] [--scale F] [--seed N] "
               "[--out FILE] [--units FILE]\n");
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"profile", required_argument, 0, 'p'}, {"scale", required_argument, 0, 's'},
        {"seed", required_argument, 0, 'S'},    {"out", required_argument, 0, 'o'},
        {"units", required_argument, 0, 'u'},   {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *profile = PROFILE, *outpath = NULL, *units_path = NULL;
    double scale = 1.0;
    uint64_t seed = 1;
    int verbose = 0, opt, rc = EXIT_OK;
    char err[512], tmp[4096] = "";
    units_t *reg = NULL;
    sim_t *s = NULL;
    out_t *o = NULL;
    struct timespec t0, t1;
    rng_t offsets;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":p:s:S:o:u:qvh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'p':
            profile = optarg;
            break;
        case 's':
            errno = 0;
            scale = strtod(optarg, &end);
            if (errno || end == optarg || *end || !isfinite(scale) || scale <= 0 ||
                scale > SCALE_MAX)
                return cli_usage_error(CMD, "bad --scale \"%s\": expected a number in (0, %g]",
                                       optarg, SCALE_MAX);
            break;
        case 'S':
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return cli_usage_error(CMD, "bad --seed \"%s\": expected a non-negative integer",
                                       optarg);
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'u':
            units_path = optarg;
            break;
        case 'q':
            verbose = -1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case ':':
            return cli_usage_error(CMD, "option %s needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(CMD, "unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (strcmp(profile, PROFILE) != 0)
        return cli_usage_error(CMD, "unknown profile \"%s\" (the only profile is %s)", profile,
                               PROFILE);
    if (floor(38900 * scale + 1e-9) < RATING_UNITS)
        return cli_usage_error(CMD, "--scale %g is too small: the profile needs at least %d "
                               "device ratings, one per rating unit (use --scale >= 0.0011)",
                               scale, RATING_UNITS);

    if (units_load(units_path, &reg, err, sizeof err) != 0) {
        cli_err(CMD, "unit registry: %s", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    s = calloc(1, sizeof *s);
    o = calloc(1, sizeof *o);
    if (!s || !o) {
        cli_err(CMD, "out of memory");
        rc = EXIT_FAIL;
        goto out;
    }
    s->reg = reg;
    s->o = o;
    s->scale = scale;
    if (setup_units(s, err, sizeof err) != 0) {
        cli_err(CMD, "%s", err);
        rc = EXIT_CONFIG;
        goto out;
    }
    rng_seed(&offsets, seed, 1);
    s->t_docs = scaled(2779000, scale, &offsets);
    s->t_mail = scaled(21800, scale, &offsets);
    s->t_device = scaled(38900, scale, &offsets);
    s->t_web = scaled(3900, scale, &offsets);
    rng_seed(&s->r, seed, 2);
    build_fixed(s);
    s->est_lines = (long)(s->t_docs * 1.035) + s->t_device + s->t_web + s->t_mail / 20 + s->nfx;
    s->progress = verbose >= 0 && cli_progress_enabled();

    if (outpath) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", outpath, (long)getpid());
        o->f = fopen(tmp, "wb");
        if (!o->f) {
            cli_err(CMD, "cannot create %s: %s", tmp, strerror(errno));
            tmp[0] = '\0';
            rc = EXIT_FAIL;
            goto out;
        }
    } else {
        o->f = stdout;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run(s);
    out_flush(o);
    if (!o->err && fflush(o->f) != 0)
        o->err = errno;
    progress(s, 1);
    if (o->err) {
        cli_err(CMD, "write failed: %s", strerror(o->err));
        rc = EXIT_FAIL;
        goto out;
    }
    if (outpath) {
        FILE *f = o->f;
        o->f = NULL;
        if (fclose(f) != 0 || rename(tmp, outpath) != 0) {
            cli_err(CMD, "cannot write %s: %s", outpath, strerror(errno));
            rc = EXIT_FAIL;
            goto out;
        }
        tmp[0] = '\0';
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (verbose > 0 || s->progress) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr,
                "docbus simulate: %llu lines in %.2f s (%.0f lines/s); targets: docs.exchanged=%ld "
                "mail.mailboxes=%ld rating.device=%ld rating.web=%ld\n",
                (unsigned long long)o->lines, secs, secs > 0 ? (double)o->lines / secs : 0.0,
                s->t_docs, s->t_mail, s->t_device, s->t_web);
    }
out:
    if (o && o->f && o->f != stdout)
        fclose(o->f);
    if (tmp[0])
        unlink(tmp);
    if (s) {
        free(s->su);
        free(s->cum_send_arr);
        free(s->cum_recv_arr);
    }
    free(s);
    free(o);
    units_destroy(reg);
    return rc;
}
