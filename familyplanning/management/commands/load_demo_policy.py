"""Demo policies, notices and common questions for `make run` (idempotent; called by `load_demo`, DEBUG only)."""

import datetime

from django.db import transaction

from accounts.demo import DemoCommand
from accounts.models import Office
from familyplanning.models import ArticleKind, PolicyArticle

# The demo family-planning office of `load_demo`; it publishes every article, whoever issued the document.
DEMO_OFFICE = "金水区卫生健康委员会"
PROVINCE = "河南省卫生健康委员会"
DISTRICT = "郑州市金水区卫生健康委员会"

ARTICLES = [
    {
        "kind": ArticleKind.POLICY,
        "published_on": datetime.date(2026, 2, 10),
        "document_number": "豫卫人口〔2026〕3号",
        "issued_by": PROVINCE,
        "title_zh": "《河南省人口与计划生育条例》实施三孩生育政策有关规定解读",
        "title_en": "The three-child policy in the Henan Regulations on Population and Family Planning: an explanation",
        "body_zh": """\
为贯彻落实国家优化生育政策、促进人口长期均衡发展的决策部署，《河南省人口与计划生育条例》对生育政策和配套支持措施作了修改。现就群众关心的主要内容解读如下。

一、生育政策。国家提倡适龄婚育、优生优育，一对夫妻可以生育三个子女。生育第一个、第二个、第三个子女，均实行生育登记服务，不设前置审批条件。

二、取消社会抚养费等制约措施。依法不再征收社会抚养费，相关处罚规定同时废止；不得将个人生育情况与入学、入户、入职等挂钩。

三、假期待遇。符合法律法规规定生育子女的夫妻，女方在国家规定产假的基础上延长产假六十日，男方享受护理假一个月；子女满三周岁前，夫妻双方每年各享受累计十日的育儿假。假期期间工资照发，不影响福利待遇和全勤评奖。

四、生育支持。各级人民政府完善普惠托育服务体系，在住房、就业、教育等方面对多子女家庭给予支持，具体措施由相关部门另行制定。

五、原有奖励扶助政策。此前已领取《独生子女父母光荣证》的家庭，继续按规定享受相应的奖励扶助，政策不变。

具体问题可在本网站“常见问题”中查询，或拨打12345政务服务便民热线咨询。""",
        "body_en": """\
To put into effect the national decision to improve the birth policy and keep the population balanced in the long \
term, the Henan Regulations on Population and Family Planning have been amended in their birth policy and the \
measures that support it. This explanation covers the points people ask about most.

1. The birth policy. The state encourages marriage and childbirth at a suitable age and healthy births; a married \
couple may have three children. The first, second and third child are all covered by birth registration, with no \
approval needed beforehand.

2. Social maintenance fees and related restrictions abolished. The social maintenance fee is no longer levied and \
the penalty provisions that went with it are repealed; how many children a person has may not be linked to school \
admission, hukou registration or employment.

3. Leave. For a couple whose child is born in accordance with the law, the mother's maternity leave is extended by \
sixty days beyond the national entitlement and the father has one month of nursing leave; until the child is three, \
each parent has ten days of childcare leave a year. Wages are paid in full during this leave, and benefits and \
attendance awards are not affected.

4. Support for families. Governments at every level build up affordable childcare services and support families \
with several children in housing, employment and education; the departments concerned set out the measures.

5. Earlier rewards. Families who already hold the Certificate of Honour for Parents of an Only Child keep the rewards \
and assistance they are entitled to; that policy is unchanged.

See the common questions on this site, or call the 12345 government service hotline.""",
    },
    {
        "kind": ArticleKind.NOTICE,
        "published_on": datetime.date(2026, 3, 2),
        "document_number": "金卫健〔2026〕12号",
        "issued_by": DISTRICT,
        "title_zh": "关于生育登记全面实行网上办理的通知",
        "title_en": "Notice on handling birth registration online",
        "body_zh": """\
各街道办事处、社区卫生服务中心，辖区居民：

为进一步方便群众办事，自2026年3月16日起，本区生育登记全面实行网上办理。现将有关事项通知如下：

一、办理对象。夫妻双方或一方户籍在本区，或者在本区居住的流动人口，生育第一个、第二个或第三个子女的，均可办理生育登记。

二、办理方式。登录河南政务服务网“人口与计划生育服务中心”，选择“生育登记”，如实填写夫妻双方信息，上传所需材料并提交，系统即生成办件编号。不方便上网的群众，仍可到所在街道便民服务中心窗口办理。

三、所需材料。夫妻双方居民身份证、结婚证；已生育子女的，提供子女的出生医学证明或居民户口簿。

四、办理时限。材料齐全、符合条件的，自受理之日起1个工作日内办结；需要补正材料的，一次性告知。

五、进度查询。申请人登录后可在“我的办件”中查看办理进度，也可凭办件编号和申请人姓名在“办件查询”页面查询。

特此通知。""",
        "body_en": """\
To the sub-district offices, the community health service centres and the residents of the district:

To make things easier for residents, from 16 March 2026 birth registration in this district is handled online. \
The arrangements are as follows.

1. Who may register. Couples of whom one or both have their hukou in the district, and members of the floating \
population living in the district, for a first, second or third child.

2. How. On Henan e-Services, open the Population and family-planning service centre, choose Birth Registration, \
fill in both spouses' details truthfully, upload the materials and submit: you receive a case number at once. \
Residents who cannot apply online can still apply at the service counter of their sub-district.

3. Materials. Both spouses' resident ID cards and the marriage certificate; for a later child, the birth \
certificates or the Household Register Booklet of the children already born.

4. Time limit. A complete application that meets the conditions is handled within 1 working day of acceptance; if \
anything is missing, you are told everything that is needed at once.

5. Progress. Signed in, follow the case under My applications; or enter the case number and the applicant's name \
on the progress enquiry page.""",
    },
    {
        "kind": ArticleKind.NOTICE,
        "published_on": datetime.date(2026, 10, 15),
        "document_number": "金卫健〔2026〕47号",
        "issued_by": DISTRICT,
        "title_zh": "关于做好2026年度计划生育技术服务人员合格证校验工作的通知",
        "title_en": "Notice on the 2026 validation of qualification certificates for family-planning technical service personnel",
        "body_zh": """\
辖区各计划生育技术服务机构：

根据计划生育技术服务管理的有关规定，现组织开展2026年度《计划生育技术服务人员合格证》校验工作。

一、校验范围。在本区计划生育技术服务机构执业、合格证发证满一个校验周期的技术服务人员。

二、办理方式。持证人员登录河南政务服务网“人口与计划生育服务中心”，选择“计划生育技术服务人员合格证校验”在线提交申请，上传本周期内的继续教育证明和所在机构的考核意见。

三、时间安排。请于2026年12月31日前提交申请。逾期未校验的，合格证不得继续使用。

四、结果查询。校验通过后，系统签发新的电子合格证，原合格证同时失效；任何单位和个人可在本网站“证照核验”页面核验证书真伪和有效期。

联系电话：0371-12345678（工作日9:00—17:00）""",
        "body_en": """\
To the family-planning technical-service institutions of the district:

Under the rules on family-planning technical services, the 2026 validation of the Qualification Certificate for \
Family-Planning Technical Service Personnel now takes place.

1. Who. Technical-service staff practising at an institution in the district whose certificate has completed a \
validation period.

2. How. On Henan e-Services, open the Population and family-planning service centre, choose the validation of the \
Qualification Certificate and apply online, uploading the proof of continuing education for the period and your \
institution's assessment.

3. When. Apply by 31 December 2026. A certificate that has not been validated by then may no longer be used.

4. Result. When the validation is approved, a new e-certificate is issued and the previous one ceases to be valid; \
anyone can check a certificate and its validity on the verification page of this site.

Telephone: 0371-12345678 (working days 9:00–17:00)""",
    },
    {
        "kind": ArticleKind.FAQ,
        "published_on": datetime.date(2026, 3, 2),
        "document_number": "",
        "issued_by": DISTRICT,
        "title_zh": "流动人口婚育证明在哪里办理？需要什么材料？",
        "title_en": "Where do I get the Marriage and Childbearing Certificate for the Floating Population, and what do I need?",
        "body_zh": """\
户籍在河南、到外省居住的流动人口，在现居住地办理婚育相关事项需要出具证明的，可以申请《流动人口婚育证明》。

办理地点：户籍所在地的卫生健康部门。您可以在本网站“人口与计划生育服务中心”在线申请，不需要回户籍地。

所需材料：本人居民身份证、居民户口簿；已婚的，提供结婚证；已生育的，提供子女的出生医学证明。

在省内流动的，现居住地可以通过信息系统核验婚育情况，一般不需要再开具证明。""",
        "body_en": """\
Members of the floating population whose hukou is in Henan and who live in another province can apply for the \
Marriage and Childbearing Certificate for the Floating Population when an office where they live asks for proof of \
their marital and childbearing status.

Where: the health office of the place of your hukou. You can apply online in the Population and family-planning \
service centre on this site, without travelling there.

What you need: your resident ID card and Household Register Booklet; if married, the marriage certificate; if you \
have children, their birth certificates.

If you have moved within Henan, the office where you live checks your status in the information system and usually \
needs no certificate.""",
    },
    {
        "kind": ArticleKind.FAQ,
        "published_on": datetime.date(2026, 3, 2),
        "document_number": "",
        "issued_by": DISTRICT,
        "title_zh": "生育登记可以在现居住地办理吗？",
        "title_en": "Can I register a birth where I live rather than where my hukou is?",
        "body_zh": """\
可以。夫妻任一方的户籍地或者现居住地都可以办理生育登记，流动人口在现居住地办理，不需要回户籍地开具证明。

在线申请时，“办理机关”选择现居住地的卫生健康部门即可。""",
        "body_en": """\
Yes. Birth registration can be made where either spouse's hukou is or where you live. Members of the floating \
population register where they live and need no certificate from the place of their hukou.

When you apply online, choose the health office of the place where you live.""",
    },
    {
        "kind": ArticleKind.FAQ,
        "published_on": datetime.date(2026, 3, 2),
        "document_number": "",
        "issued_by": DISTRICT,
        "title_zh": "怎样查询办理进度？办件编号忘了怎么办？",
        "title_en": "How do I follow my application, and what if I have lost the case number?",
        "body_zh": """\
登录后，在“我的办件”中可以看到您的全部申请、当前状态、办理时限和每一步的办理记录，办件编号也在那里。

不登录时，可以在“办件查询”页面输入办件编号，以及申请人姓名或身份证号码后四位查询。

提交申请后，系统还会通过短信和电子邮件把办件编号和每一步的结果告诉您。""",
        "body_en": """\
Signed in, My applications lists all your applications with their status, time limit and every step taken; the \
case number is there too.

Without signing in, enter the case number and the applicant's name or the last four characters of the ID number on \
the progress enquiry page.

After you submit, the case number and the outcome of every step are also sent to you by SMS and e-mail.""",
    },
    {
        # A draft the demo officer can publish from the admin.
        "kind": ArticleKind.NOTICE,
        "published": False,
        "published_on": None,
        "document_number": "金卫健〔2026〕55号",
        "issued_by": DISTRICT,
        "title_zh": "关于开展2027年度计划生育家庭奖励扶助对象资格确认的通知（草稿）",
        "title_en": "Notice on confirming eligibility for the 2027 family-planning family rewards (draft)",
        "body_zh": """\
各街道办事处：

现开展2027年度计划生育家庭奖励扶助对象资格确认工作。符合条件的家庭请于2027年1月31日前向户籍所在地街道提出申请。""",
        "body_en": """\
To the sub-district offices:

The confirmation of eligibility for the 2027 family-planning family rewards now takes place. Eligible families apply \
to the sub-district of their hukou by 31 January 2027.""",
    },
]


class Command(DemoCommand):
    help = "Create the demo policies, notices and common questions (idempotent)."

    def load_demo(self, *, print_only):
        self.stdout.write(f"{self.load()} demo policy articles created")

    @transaction.atomic
    def load(self) -> int:
        office = Office.objects.filter(kind=Office.Kind.FAMILY_PLANNING, name=DEMO_OFFICE).first()
        created = 0
        for entry in ARTICLES:
            entry = dict(entry)
            _article, new = PolicyArticle.objects.get_or_create(
                title_zh=entry.pop("title_zh"),
                defaults={"published": True, **entry, "office": office},
            )
            created += new
        return created
